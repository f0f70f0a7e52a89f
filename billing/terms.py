"""Billing intervals: monthly, quarterly and yearly plans, and the calendar term of a month.

A plan's prices are per device and interval. A quarterly or yearly plan is billed either
monthly (`bill_charges_monthly`: each month 1/3 or 1/12 of the price, prorated by the month's
days) or in advance: the invoice of the month a term starts charges the whole calendar term
(quarter Jan/Apr/Jul/Oct, or year), prorated on the term's own days; each later month of the
term charges the difference a mid-term change makes (a joining device: its remaining days;
a leaving one: a credit of its unused days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing.models import Period

INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True, slots=True)
class Term:
    """A calendar quarter or year: the dates [first, next_first)."""

    label: str
    first: date
    next_first: date

    @property
    def days(self) -> int:
        return (self.next_first - self.first).days

    @classmethod
    def of(cls, period: Period, interval: str) -> Term:
        """The term of `interval` that contains the month (a month is its own term)."""
        months = INTERVAL_MONTHS[interval]
        start = (period.month - 1) // months * months + 1
        first = date(period.year, start, 1)
        end = start + months
        nxt = date(period.year + 1, 1, 1) if end > 12 else date(period.year, end, 1)
        label = {1: str(period), 3: f"{period.year}-Q{(start + 2) // 3}", 12: str(period.year)}
        return cls(label[months], first, nxt)
