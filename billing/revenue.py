"""MRR and its movement (new, expansion, contraction, churn) from recurring revenue per month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MonthMrr:
    """One month: recurring revenue (fen) and how it moved against the previous month."""

    period: str
    mrr: int
    new: int
    expansion: int
    contraction: int
    churn: int
    tenants: int


def movements(amounts: dict[tuple[str, str], int]) -> list[MonthMrr]:
    """Per month from {(period, tenant): recurring fen}; months without revenue count too."""
    if not amounts:
        return []
    by_month: dict[str, dict[str, int]] = defaultdict(dict)
    for (period, tenant), fen in amounts.items():
        by_month[period][tenant] = by_month[period].get(tenant, 0) + fen
    months = _month_range(min(by_month), max(by_month))
    out: list[MonthMrr] = []
    previous: dict[str, int] = {}
    for month in months:
        current = {t: v for t, v in by_month.get(month, {}).items() if v > 0}
        out.append(_compare(month, previous, current))
        previous = current
    return out


def _compare(month: str, before: dict[str, int], now: dict[str, int]) -> MonthMrr:
    new = sum(v for t, v in now.items() if t not in before)
    churn = -sum(v for t, v in before.items() if t not in now)
    deltas = [now[t] - before[t] for t in now.keys() & before.keys()]
    return MonthMrr(
        month,
        sum(now.values()),
        new,
        sum(d for d in deltas if d > 0),
        sum(d for d in deltas if d < 0),
        churn,
        len(now),
    )


def _month_range(first: str, last: str) -> list[str]:
    """Every YYYY-MM from first to last."""
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
