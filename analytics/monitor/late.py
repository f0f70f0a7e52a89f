"""Readings older than a series' watermark: judged by instant threshold checks only.

A buffered reading that arrives after newer ones cannot re-run the streaming detectors
(their windows have moved on), but a limit it breaks is still a fact at its device time.
"""

from __future__ import annotations

import numpy as np

from analytics.alerts.models import Severity
from analytics.detectors.rules import ThresholdRule
from analytics.detectors.tracker import Tracker
from analytics.monitor import catalog, describe
from analytics.monitor.findings import Finding

F = np.ndarray


def late_findings(rules: list[catalog.Rule], metric: str, unit: str, ts: F, x: F) -> list[Finding]:
    """Instant threshold findings for late readings of one metric, at their device times."""
    out: list[Finding] = []
    for rule in rules:
        if isinstance(rule, ThresholdRule) and rule.for_s == 0:
            out += _point(rule, metric, unit, ts, x)
    return out


def _point(rule: ThresholdRule, metric: str, unit: str, ts: F, x: F) -> list[Finding]:
    point = ThresholdRule(rule.name, rule.metric, rule.op, rule.limit, 0, 0, rule.severity)
    cond = point.evaluate(ts, x)
    if not cond.firing.any():
        return []
    sig = Tracker(0.0).process(ts, cond)
    if sig is None or sig.peak_index is None:
        return []
    ev = {"value": float(x[sig.peak_index]), "threshold": rule.limit, "late": True}
    text = describe.sentence("threshold", metric, unit, sig, ev)
    severity = Severity.of_rank(sig.severity)
    return [
        Finding(
            rule=f"rule:{rule.name}",
            detector="threshold",
            metric=metric,
            severity=severity,
            signal=sig,
            value=ev["value"],
            threshold=rule.limit,
            score=None,
            sentence=text + " (late reading)",
            evidence=ev,
        )
    ]
