"""Event-level evaluation against simulator ground truth (offline CSVs + labels JSON).

Every device CSV is judged by the same `DevicePipeline` the live detector runs, fed in
one-hour batches in device time; device events become fault-code alerts, and gaps longer
than the type's offline policy (offline_after_intervals reporting intervals) become offline
alerts. An alert episode detects a fault when it starts on the same device inside [fault
start, fault end + grace]; an episode that starts inside no fault window (plus grace) is a
false alert.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import numpy as np

from analytics.monitor import catalog
from analytics.monitor.batching import BATCH_S, time_batches
from analytics.monitor.pipeline import DevicePipeline
from registry.catalog import builtin_type

# A spike lasts a few samples; an alert raised a little after the label still detects it.
GRACE_S = 600.0
WEEK_S = 7 * 86400.0
# The alert kind a false alert is charged to, per detector.
DETECTOR_TYPE = {
    "spike": "spike",
    "drift": "drift",
    "stuck": "stuck",
    "noise": "noise",
    "threshold": "overheat",
    "rule:ir_hotspot": "equipment_defect",
    "rise": "equipment_defect",
    "rate": "overheat",
    "slope": "landslide",
    "offline": "comm_loss",
    "fault_code": "fault_code",
}


@dataclass(frozen=True, slots=True)
class Episode:
    """One alert episode: device, detector, start in device time (s)."""

    device_id: str
    detector: str
    rule: str
    start: float


@dataclass(frozen=True, slots=True)
class Label:
    """One ground-truth fault."""

    device_id: str
    kind: str
    start: float
    end: float


def load_labels(path: Path) -> list[Label]:
    """Faults from the simulator's labels JSON."""
    body = json.loads(path.read_text())
    return [
        Label(f["device_id"], f["fault"], f["start_ms"] / 1000, f["end_ms"] / 1000)
        for f in body["faults"]
    ]


def device_episodes(path: Path, device_id: str, device_type: str) -> tuple[list[Episode], float]:
    """Alert episodes of one device CSV and the span of its data (seconds)."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    t = np.array([float(r[1]) / 1000 for r in body])
    spec = builtin_type(device_type)
    units = {m.name: m.unit for m in spec.metrics}
    pipe = DevicePipeline(
        device_id,
        device_type,
        units,
        reporting_interval_s=spec.reporting_interval_s,
        ranges={m.name: (m.min_value, m.max_value) for m in spec.metrics},
    )
    cols = {
        name: (t, np.array([float(r[j]) if r[j] else np.nan for r in body]))
        for j, name in enumerate(header[3:], start=3)
    }
    out: list[Episode] = []
    for batch in time_batches(cols, BATCH_S):
        for f in pipe.judge_many(batch):
            out += _starts(device_id, f.detector, f.rule, f.signal)
    out += _gaps(device_id, t, spec.offline_after_s)
    span = float(t[-1] - t[0]) if len(t) else 0.0
    return out, span


def _starts(device_id: str, detector: str, rule: str, sig: object) -> list[Episode]:
    """Episode starts in a batch: the first firing plus one per later re-opening."""
    episodes = getattr(sig, "episodes", 0)
    first = getattr(sig, "first_ts", None)
    if not episodes or first is None:
        return []
    starts = [first]
    start = getattr(sig, "episode_start", None)
    if episodes > 1 and start is not None and start != first:
        starts.append(start)
    return [Episode(device_id, detector, rule, s) for s in starts]


def _gaps(device_id: str, t: np.ndarray, limit: float) -> list[Episode]:
    gaps = np.flatnonzero(np.diff(t) > limit)
    return [Episode(device_id, "offline", "offline", float(t[i] + limit)) for i in gaps]


def defect_labels(path: Path) -> list[Label]:
    """Equipment defects the robots found (inspection events with defects_found > 0).

    They are not device faults, so the labels file leaves them out; the IR hot-spot rule is
    judged against them instead of counting its alerts as false.
    """
    out = []
    with path.open(newline="") as fh:
        for r in csv.DictReader(fh):
            attrs = json.loads(r["attrs"] or "{}")
            if r["type"] == "inspection_completed" and attrs.get("defects_found", 0) > 0:
                end = int(r["ts_ms"]) / 1000
                out.append(
                    Label(r["device_id"], "equipment_defect", end - attrs["duration_s"], end)
                )
    return out


def event_episodes(path: Path) -> list[Episode]:
    """Fault-code alerts from events.csv."""
    with path.open(newline="") as fh:
        return [
            Episode(r["device_id"], "fault_code", f"fault:{r['code']}", int(r["ts_ms"]) / 1000)
            for r in csv.DictReader(fh)
            if r["type"] == "fault_code"
        ]


@dataclass(slots=True)
class Result:
    """Per fault type: faults, detected, false alerts, detection delays."""

    faults: int = 0
    detected: int = 0
    false_alerts: int = 0
    delays: list[float] | None = None

    def f1(self) -> float:
        """Event-level F1 (precision over detected faults plus false alerts of this type)."""
        p = self.detected / (self.detected + self.false_alerts) if self.detected else 0.0
        r = self.detected / self.faults if self.faults else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def match(labels: list[Label], episodes: list[Episode]) -> dict[str, Result]:
    """Per fault type results, plus 'all'."""
    by_dev: dict[str, list[Label]] = defaultdict(list)
    for lab in labels:
        by_dev[lab.device_id].append(lab)
    results: dict[str, Result] = defaultdict(lambda: Result(delays=[]))
    first_hit: dict[int, float] = {}
    for ep in episodes:
        hits = [
            i
            for i, lab in enumerate(labels)
            if lab.device_id == ep.device_id and lab.start - 1 <= ep.start <= lab.end + GRACE_S
        ]
        for i in hits:
            first_hit[i] = min(first_hit.get(i, ep.start), ep.start)
        if not hits:
            kind = DETECTOR_TYPE.get(ep.rule) or DETECTOR_TYPE.get(ep.detector, ep.detector)
            results[kind].false_alerts += 1
    for i, lab in enumerate(labels):
        res = results[lab.kind]
        res.faults += 1
        if i in first_hit:
            res.detected += 1
            assert res.delays is not None
            res.delays.append(max(first_hit[i] - lab.start, 0.0))
    return dict(results)


# Robots' inspection findings are equipment defects, not device faults: one label per
# inspection that reports one, while the hot-spot alert rightly stays open across
# inspections. They get a row of their own and stay out of the device-fault total.
FINDINGS = "equipment_defect"


def summarise(results: dict[str, Result]) -> Result:
    """All injected device faults together (inspection findings left out)."""
    total = Result(delays=[])
    for kind, r in results.items():
        if kind == FINDINGS:
            continue
        total.faults += r.faults
        total.detected += r.detected
        total.false_alerts += r.false_alerts
        total.delays = (total.delays or []) + (r.delays or [])
    return total


def report(sim_dir: Path, labels_path: Path) -> str:
    """Markdown table of per-type and overall results for a simulator output directory."""
    labels = load_labels(labels_path)
    episodes: list[Episode] = []
    weeks = 0.0
    with (sim_dir / "devices.csv").open(newline="") as fh:
        devices = list(csv.DictReader(fh))
    for d in devices:
        print(f"  judging {d['device_id']} ({d['type']})", flush=True)
        eps, span = device_episodes(sim_dir / f"{d['device_id']}.csv", d["device_id"], d["type"])
        episodes += eps
        weeks += max(span - catalog.WARMUP_S, 0.0) / WEEK_S
    if (sim_dir / "events.csv").exists():
        episodes += event_episodes(sim_dir / "events.csv")
        labels += defect_labels(sim_dir / "events.csv")
    results = match(labels, episodes)
    return _table(results, weeks, len(devices))


def _table(results: dict[str, Result], weeks: float, devices: int) -> str:
    rows = [
        "| fault type | faults | detected | false alerts | F1 | median time to detect |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in sorted(k for k in results if k != FINDINGS):
        rows.append(_row(kind, results[kind]))
    total = summarise(results)
    rows.append(_row("**all device faults**", total))
    if FINDINGS in results:
        rows.append(
            _row("inspection findings (IR hot-spot rule; not in the total)", results[FINDINGS])
        )
    fa = total.false_alerts / weeks if weeks else 0.0
    rows.append("")
    rows.append(
        f"{devices} devices, {weeks:.1f} device-weeks: {fa:.2f} false alerts per device-week"
    )
    return "\n".join(rows)


def _row(kind: str, r: Result) -> str:
    delay = f"{median(r.delays):.0f} s" if r.delays else "-"
    return f"| {kind} | {r.faults} | {r.detected} | {r.false_alerts} | {r.f1():.2f} | {delay} |"
