"""Business-hours calendar (pure): working hours in a zone, public holidays, make-up workdays.

China moves working days around its public holidays (调休): some Saturdays or Sundays become
working days. Both lists are configured per year; nothing is built in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A business window can never need more days than this to fit (guards a calendar with none).
_MAX_DAYS = 3660


@dataclass(frozen=True, kw_only=True)
class BusinessCalendar:
    """Working hours [start, end) on weekdays (0 = Monday) in `timezone`, minus holidays,
    plus make-up working days."""

    timezone: str = "Asia/Shanghai"
    start: time = time(9)
    end: time = time(18)
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)
        if self.end <= self.start and self.end != time(0):
            raise ValueError("working hours must end after they start (00:00 = midnight)")
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError("weekdays are 0 (Monday) .. 6 (Sunday)")
        if self.holidays & self.workdays:
            raise ValueError("a day cannot be both a holiday and a make-up workday")

    def is_working_day(self, day: date) -> bool:
        """Whether people work on this local date."""
        if day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local date as UTC datetimes, or None."""
        if not self.is_working_day(day):
            return None
        tz = ZoneInfo(self.timezone)
        begin = datetime.combine(day, self.start, tz)
        finish = datetime.combine(
            day + timedelta(days=1) if self.end == time(0) else day, self.end, tz
        )
        return begin.astimezone(UTC), finish.astimezone(UTC)

    def _local_day(self, ts: datetime) -> date:
        return ts.astimezone(ZoneInfo(self.timezone)).date()

    def minutes(self, a: datetime, b: datetime) -> float:
        """Business minutes in [a, b); negative when b is before a."""
        if b < a:
            return -self.minutes(b, a)
        total = 0.0
        day = self._local_day(a)
        while day <= self._local_day(b):
            win = self.window(day)
            if win is not None:
                lo, hi = max(win[0], a), min(win[1], b)
                total += max((hi - lo).total_seconds(), 0.0) / 60
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` business minutes after `start`."""
        if minutes < 0:
            raise ValueError("cannot add negative business minutes")
        left = timedelta(minutes=minutes)
        day = self._local_day(start)
        for _ in range(_MAX_DAYS):
            win = self.window(day)
            if win is not None and win[1] > start:
                lo = max(win[0], start)
                if lo + left <= win[1]:
                    return lo + left
                left -= win[1] - lo
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in ten years")


ALWAYS = BusinessCalendar(timezone="UTC", start=time(0), end=time(0), weekdays=frozenset(range(7)))
