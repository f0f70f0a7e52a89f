"""The ground-truth labels file: JSON with the run's parameters and one entry per fault."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators.models import Fault, FaultKind


def iso(ms: int) -> str:
    """RFC 3339 UTC with milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class RunInfo:
    """What produced a labels file."""

    fleet: str
    seed: int
    mode: str
    profile: str
    start_ms: int
    end_ms: int
    speedup: float = 1.0


def fault_json(f: Fault) -> dict[str, Any]:
    """One label entry."""
    return {
        "device_id": f.device_id,
        "fault": f.kind.value,
        "metrics": list(f.metrics),
        "start": iso(f.start_ms),
        "end": iso(f.end_ms),
        "start_ms": f.start_ms,
        "end_ms": f.end_ms,
        "magnitude": round(f.magnitude, 6),
        "code": f.code,
    }


def write_labels(path: Path, info: RunInfo, faults: list[Fault]) -> None:
    """Write the labels file atomically (readers never see half a file)."""
    body = {
        "fleet": info.fleet,
        "seed": info.seed,
        "mode": info.mode,
        "fault_profile": info.profile,
        "speedup": info.speedup,
        "start": iso(info.start_ms),
        "end": iso(info.end_ms),
        "faults": [fault_json(f) for f in sorted(faults, key=lambda f: (f.start_ms, f.device_id))],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(body, indent=1) + "\n")
    tmp.replace(path)


def read_labels(path: Path) -> list[Fault]:
    """Faults from a labels file."""
    body = json.loads(path.read_text())
    return [
        Fault(
            e["device_id"], FaultKind(e["fault"]), tuple(e["metrics"]), int(e["start_ms"]),
            int(e["end_ms"]), float(e["magnitude"]), 0, e.get("code"),
        )
        for e in body["faults"]
    ]  # fmt: skip
