"""Per-device detection: detectors and catalog rules per metric, trackers per alert key.

Pure logic: batches of (metric, device timestamps, values) in, `Finding`s out. The detect
service feeds it from the ingest feed; `servitize score` and the evaluations feed it files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics import catalog, describe
from analytics.detectors.rules import SEVERITIES, Condition, SlopeRule, ThresholdRule
from analytics.detectors.tracker import Signal, Tracker
from analytics.detectors.univariate import (
    KIND_NAMES,
    BatchVerdict,
    DetectorConfig,
    SeriesDetector,
)

F = np.ndarray
# Detectors' alerts stay active 5 minutes past their last anomalous reading: long enough to
# bridge the gaps of an intermittent fault, short enough that a clear means something.
DETECTOR_HOLD_S = 300.0
RULE_HOLD_S = 60.0


@dataclass(slots=True)
class Finding:
    """One key's change in one batch, ready for the alert store."""

    rule: str
    detector: str
    metric: str | None
    severity: str
    signal: Signal
    value: float | None
    threshold: float | None
    score: float | None
    sentence: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SeriesState:
    """Detectors, rules and the watermark of one metric of one device."""

    detector: SeriesDetector
    rules: list[catalog.Rule]
    watermark: float = -np.inf
    late: int = 0


@dataclass(slots=True)
class DevicePipeline:
    """Everything that judges one device's readings."""

    device_id: str
    device_type: str
    units: dict[str, str] = field(default_factory=dict)
    config: DetectorConfig = field(default_factory=DetectorConfig)
    series: dict[str, SeriesState] = field(default_factory=dict)
    trackers: dict[str, Tracker] = field(default_factory=dict)

    def judge(self, metric: str, ts: F, values: F) -> list[Finding]:
        """Judge readings of one metric (epoch seconds); late ones get point checks only."""
        state = self._series(metric)
        order = np.argsort(ts, kind="stable")
        ts, values = np.asarray(ts, float)[order], np.asarray(values, float)[order]
        late = ts <= state.watermark
        findings = self._late(metric, state, ts[late], values[late]) if late.any() else []
        ts, values = ts[~late], values[~late]
        if not len(ts):
            return findings
        state.watermark = float(ts[-1])
        verdict = state.detector.update(values)
        findings += self._detectors(metric, ts, values, verdict)
        for rule in state.rules:
            cond = rule.evaluate(ts, values)
            findings += self._track(f"rule:{rule.name}", _kind(rule), metric, ts, values, cond)
        return findings

    def _series(self, metric: str) -> SeriesState:
        if metric not in self.series:
            rules = [r for r in catalog.rules_for(self.device_type) if r.metric == metric]
            self.series[metric] = SeriesState(SeriesDetector(self.config), rules)
        return self.series[metric]

    def _detectors(self, metric: str, ts: F, x: F, v: BatchVerdict) -> list[Finding]:
        out: list[Finding] = []
        for bit, name in KIND_NAMES.items():
            firing = (v.flags & bit) > 0
            key = f"{name}:{metric}"
            if not firing.any() and not self._active(key):
                continue
            sev = np.full(len(x), SEVERITIES.index("warning"), np.int64)
            cond = Condition(firing, ~firing, sev, x, v.baseline, v.score)
            out += self._track(key, name, metric, ts, x, cond, v)
        return out

    def _active(self, key: str) -> bool:
        tracker = self.trackers.get(key)
        return tracker is not None and tracker.active

    def _track(
        self,
        key: str,
        kind: str,
        metric: str,
        ts: F,
        x: F,
        cond: Condition,
        verdict: BatchVerdict | None = None,
    ) -> list[Finding]:
        hold = RULE_HOLD_S if key.startswith("rule:") else DETECTOR_HOLD_S
        tracker = self.trackers.setdefault(key, Tracker(hold))
        sig = tracker.process(ts, cond)
        if sig is None:
            return []
        i = sig.peak_index
        ev = describe.evidence(kind, i, cond, verdict, self.series[metric].detector)
        text = describe.sentence(kind, metric, self.units.get(metric, ""), sig, ev)
        return [
            Finding(
                rule=key,
                detector=kind,
                metric=metric,
                severity=SEVERITIES[sig.severity],
                signal=sig,
                value=ev.get("value"),
                threshold=ev.get("threshold"),
                score=ev.get("score"),
                sentence=text,
                evidence=ev,
            )
        ]

    def _late(self, metric: str, state: SeriesState, ts: F, x: F) -> list[Finding]:
        """Readings older than the watermark: instant threshold checks at their device time."""
        state.late += len(ts)
        out: list[Finding] = []
        for rule in state.rules:
            if isinstance(rule, ThresholdRule) and rule.for_s == 0:
                point = ThresholdRule(
                    rule.name, rule.metric, rule.op, rule.limit, 0, 0, rule.severity
                )
                cond = point.evaluate(ts, x)
                if cond.firing.any():
                    sig = Tracker(0.0).process(ts, cond)
                    if sig is not None:
                        out += self._late_finding(rule, metric, ts, x, cond, sig)
        return out

    def _late_finding(
        self, rule: ThresholdRule, metric: str, ts: F, x: F, cond: Condition, sig: Signal
    ) -> list[Finding]:
        i = sig.peak_index
        assert i is not None
        ev = {"value": float(x[i]), "threshold": rule.limit, "late": True}
        text = describe.sentence("threshold", metric, self.units.get(metric, ""), sig, ev)
        sev = SEVERITIES[sig.severity]
        return [
            Finding(
                f"rule:{rule.name}",
                "threshold",
                metric,
                sev,
                sig,
                ev["value"],
                rule.limit,
                None,
                text + " (late reading)",
                ev,
            )
        ]


def _kind(rule: catalog.Rule) -> str:
    if isinstance(rule, SlopeRule):
        return "slope"
    return "threshold" if isinstance(rule, ThresholdRule) else "rate"
