"""Walking a whole fleet through a time span, hour by hour, with progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from simulators.faults import FaultPlanner
from simulators.fleet import Fleet
from simulators.models import Chunk, Fault
from simulators.stream import CHUNK_MS, DeviceStream


def truncate(chunk: Chunk, end_ms: int) -> Chunk:
    """The part of a chunk before end_ms."""
    keep = chunk.ts_ms < end_ms
    if keep.all():
        return chunk
    return Chunk(
        chunk.device_id,
        chunk.ts_ms[keep],
        chunk.seq[keep],
        {m: v[keep] for m, v in chunk.metrics.items()},
        [e for e in chunk.events if e.ts_ms < end_ms],
    )


@dataclass
class Span:
    """A fleet's streams over [start_ms, end_ms)."""

    fleet: Fleet
    start_ms: int
    end_ms: int
    planner: FaultPlanner
    streams: list[DeviceStream] = field(init=False)

    def __post_init__(self) -> None:
        if self.end_ms <= self.start_ms:
            raise ValueError("the span must end after it starts")
        self.streams = [DeviceStream(d, self.start_ms, self.planner) for d in self.fleet.devices]

    def hours(
        self, on_hour: Callable[[int, int], None] | None = None
    ) -> Iterator[tuple[int, list[Chunk]]]:
        """(hour end ms, every device's chunk of that hour), hour after hour."""
        first_hour = self.start_ms // CHUNK_MS
        hours = -(-self.end_ms // CHUNK_MS) - first_hour
        for hour in range(hours):
            chunks = [
                truncate(s.next_chunk(), self.end_ms)
                for s in self.streams
                if s.next_ms < self.end_ms
            ]
            yield min((first_hour + hour + 1) * CHUNK_MS, self.end_ms), chunks
            if on_hour:
                on_hour(hour + 1, hours)

    def chunks(self, on_hour: Callable[[int, int], None] | None = None) -> Iterator[Chunk]:
        """Every device's chunks, one hour of the whole fleet at a time."""
        for _, chunks in self.hours(on_hour):
            yield from chunks

    def labels(self) -> list[Fault]:
        """Faults of the span (the ground truth)."""
        return [f for s in self.streams for f in s.labels(self.end_ms)]


class Progress:
    """One status line on stderr, redrawn at most every half second."""

    def __init__(self, what: str, enabled: bool = True) -> None:
        self.what, self.enabled = what, enabled
        self.started = self.last = time.monotonic()
        self.readings = self.messages = 0
        self.tty = sys.stderr.isatty()

    def update(self, done: int, total: int, *, force: bool = False) -> None:
        """Redraw with `done` of `total` hours."""
        now = time.monotonic()
        # A terminal gets a redrawn line twice a second, a log file a new line every 10 s.
        every = 0.5 if self.tty else 10.0
        if not self.enabled or (now - self.last < every and not force):
            return
        self.last = now
        elapsed = now - self.started
        eta = elapsed / done * (total - done) if done else 0.0
        line = (
            f"\r{self.what}: day {done / 24:.1f}/{total / 24:.1f} ({100 * done / total:.0f}%) "
            f"{self.readings:,} readings {self.messages:,} messages "
            f"{self.readings / max(elapsed, 1e-9):,.0f} readings/s ETA {eta:.0f}s "
        )
        sys.stderr.write(line if self.tty else line.lstrip("\r") + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        """Finish the line."""
        if self.enabled and self.tty:
            sys.stderr.write("\n")
