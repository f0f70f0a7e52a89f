"""Bucket arithmetic for rollups and reads: aligning moments, coalescing touched time ranges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
# The origin both storage paths bucket from (time_bucket's default, date_bin's explicit one).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Window = tuple[datetime, datetime]


def align(moment: datetime, width: str, *, up: bool = False) -> datetime:
    """The bucket boundary at or before (or, with up, at or after) a moment."""
    step = WIDTHS[width]
    n, rest = divmod(moment - EPOCH, step)
    return EPOCH + (n + (1 if up and rest else 0)) * step


def bucket_windows(spans: Iterable[Window], width: str) -> list[Window]:
    """Whole buckets covering each (first, last) reading time, overlapping ones merged.

    Each span's last moment is included: its window ends at the start of the bucket after
    the one that holds it. Windows that touch or overlap are merged, so a live stream of
    many small batches becomes one window and a backfill days back stays a window of its own.
    """
    step = WIDTHS[width]
    aligned = sorted((align(lo, width), align(hi, width) + step) for lo, hi in spans)
    merged: list[Window] = []
    for lo, hi in aligned:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged
