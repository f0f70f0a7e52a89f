"""The field-service clock: real time, or a fixed instant a test or a replay sets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_fixed: list[datetime] = []


def now() -> datetime:
    """The current instant (aware, UTC)."""
    return _fixed[-1] if _fixed else datetime.now(UTC)


@contextmanager
def frozen_at(instant: datetime) -> Iterator[None]:
    """Within the block, `now()` is `instant` (use `set_to` inside to move it)."""
    if instant.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    _fixed.append(instant.astimezone(UTC))
    try:
        yield
    finally:
        _fixed.pop()


def set_to(instant: datetime) -> None:
    """Move a frozen clock (only inside `frozen_at`)."""
    if not _fixed:
        raise RuntimeError("set_to works only inside frozen_at")
    _fixed[-1] = instant.astimezone(UTC)
