"""Offline mode: the same generator written to CSV files (one per device) plus events and labels."""

from __future__ import annotations

import csv
import json
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.catalog import builtin_type
from simulators.generate import Progress, Span
from simulators.labels import RunInfo, iso, write_labels
from simulators.models import Chunk


@dataclass
class OfflineResult:
    """Where the files went and how much was written."""

    out_dir: Path
    readings: int
    events: int
    faults: int


def run_offline(
    span: Span, out_dir: Path, labels_path: Path, info: RunInfo, *, progress: bool = True
) -> OfflineResult:
    """Write <out>/<device>.csv (ts, ts_ms, seq, metrics...), events.csv, devices.csv, labels."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_devices(span, out_dir)
    readings = events = 0
    bar = Progress("offline", progress)
    with ExitStack() as files:
        writers: dict[str, tuple[Any, list[str]]] = {}
        for d in span.fleet.devices:
            names = [m.name for m in builtin_type(d.type_id).metrics]
            writer = csv.writer(
                files.enter_context((out_dir / f"{d.id}.csv").open("w", newline=""))
            )
            writer.writerow(["ts", "ts_ms", "seq", *names])
            writers[d.id] = (writer, names)
        ev = csv.writer(files.enter_context((out_dir / "events.csv").open("w", newline="")))
        ev.writerow(["device_id", "ts", "ts_ms", "type", "code", "severity", "attrs"])
        for chunk in span.chunks(bar.update):
            _write_chunk(*writers[chunk.device_id], chunk)
            for e in chunk.events:
                attrs = json.dumps(e.attrs, sort_keys=True)
                code, sev = e.code or "", e.severity or ""
                ev.writerow([chunk.device_id, iso(e.ts_ms), e.ts_ms, e.type, code, sev, attrs])
            readings += len(chunk)
            events += len(chunk.events)
            bar.readings = readings
    bar.done()
    faults = span.labels()
    write_labels(labels_path, info, faults)
    return OfflineResult(out_dir, readings, events, len(faults))


def _write_chunk(writer: Any, names: list[str], chunk: Chunk) -> None:
    columns = [chunk.metrics[n].tolist() if n in chunk.metrics else None for n in names]
    for i, (ts, seq) in enumerate(zip(chunk.ts_ms.tolist(), chunk.seq.tolist(), strict=True)):
        values = ["" if c is None or c[i] != c[i] else repr(c[i]) for c in columns]
        writer.writerow([iso(ts), ts, seq, *values])


def _write_devices(span: Span, out_dir: Path) -> None:
    with (out_dir / "devices.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["device_id", "type", "tenant_id", "site_id", "name"])
        for d in span.fleet.devices:
            w.writerow([d.id, d.type_id, d.tenant_id, d.site_id, d.name])


def read_device_csv(path: Path) -> list[tuple[int, dict[str, float]]]:
    """Readings of one device CSV as (ts_ms, metrics) pairs."""
    out = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            ts = int(row.pop("ts_ms"))
            row.pop("ts"), row.pop("seq")
            out.append((ts, {k: float(v) for k, v in row.items() if v != ""}))
    return out
