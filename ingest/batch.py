"""A batch of parsed messages waiting to be committed together."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ingest.models import EventRow, Parsed, ReadingRow, Reject


@dataclass(slots=True)
class Delivery:
    """One MQTT message: its packet id and QoS (to acknowledge) and what it parsed into."""

    mid: int
    qos: int
    generation: int
    parsed: Parsed
    received: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class Batch:
    """Messages committed in one transaction and acknowledged after it."""

    deliveries: list[Delivery] = field(default_factory=list)
    rows: int = 0
    opened: float = field(default_factory=time.monotonic)

    def add(self, delivery: Delivery) -> None:
        """Append a message."""
        self.deliveries.append(delivery)
        self.rows += len(delivery.parsed.readings) + len(delivery.parsed.events) + 1

    def readings(self) -> list[ReadingRow]:
        """All readings of the batch."""
        return [r for d in self.deliveries for r in d.parsed.readings]

    def events(self) -> list[EventRow]:
        """All events of the batch."""
        return [e for d in self.deliveries for e in d.parsed.events]

    def rejects(self) -> list[Reject]:
        """All rejects of the batch."""
        return [r for d in self.deliveries for r in d.parsed.rejects]

    def statuses(self) -> list[tuple[str, bool]]:
        """Status changes in arrival order."""
        return [d.parsed.status for d in self.deliveries if d.parsed.status is not None]

    def counts(self) -> dict[str, int]:
        """Counter deltas that do not depend on the database's answer."""
        out: dict[str, int] = {"messages": len(self.deliveries)}
        for reject in self.rejects():
            key = f"rejected_{reject.reason.value}"
            out[key] = out.get(key, 0) + reject.count
        out["flagged_out_of_range"] = sum(d.parsed.flagged for d in self.deliveries)
        return out
