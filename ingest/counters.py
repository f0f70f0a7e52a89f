"""In-process ingest counters, exported for Prometheus when the ingest metrics port is set."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from ingest.batch import Batch

_ROWS = Counter("servitize_ingest_events_total", "Ingest outcomes by kind", ["kind"])
_BATCH = Histogram(
    "servitize_ingest_batch_rows",
    "Rows per committed batch",
    buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000),
)
_LAG = Histogram(
    "servitize_ingest_commit_lag_seconds",
    "Message arrival to commit",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class Counters:
    """Totals since start (the database keeps the durable ones)."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}

    def record(self, counts: dict[str, int], batch: Batch) -> None:
        """Add a committed batch's counts."""
        now = time.monotonic()
        for key, value in counts.items():
            self.totals[key] = self.totals.get(key, 0) + value
            if value:
                _ROWS.labels(kind=key).inc(value)
        _BATCH.observe(counts.get("accepted", 0) + counts.get("duplicates", 0))
        for d in batch.deliveries:
            _LAG.observe(now - d.received)
