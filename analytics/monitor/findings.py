"""What the pipelines hand to the alert store (one key's change in one batch), and the findings
the runtime builds itself: device fault codes, instant episodes, clearings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analytics.alerts.models import Severity
from analytics.detectors.tracker import Signal


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One key's change in one batch, ready for the alert store."""

    rule: str
    detector: str
    metric: str | None
    severity: Severity
    signal: Signal
    value: float | None
    threshold: float | None
    score: float | None
    sentence: str
    evidence: dict[str, Any] = field(default_factory=dict)


FAULT_SEVERITY = {
    "critical": Severity.CRITICAL,
    "major": Severity.MAJOR,
    "error": Severity.MAJOR,
    "minor": Severity.WARNING,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
}


def fault_finding(ev: Any) -> Finding | None:
    """A device fault_code event opens `fault:<code>`; fault_cleared with the code clears it."""
    code = ev["code"] or "unknown"
    t = float(ev["t"])
    if ev["type"] == "fault_code":
        sev = FAULT_SEVERITY.get((ev["severity"] or "major").lower(), Severity.MAJOR)
        attrs = ev["attrs"] or {}
        msg = attrs.get("message") if isinstance(attrs, dict) else None
        return Finding(
            rule=f"fault:{code}",
            detector="fault_code",
            metric=None,
            severity=sev,
            signal=opened(t, sev),
            value=None,
            threshold=None,
            score=None,
            sentence=f"device reported fault code {code}" + (f": {msg}" if msg else ""),
            evidence={"attrs": attrs},
        )
    if ev["type"] == "fault_cleared":
        return clearing(f"fault:{code}", "fault_code", Severity.INFO, t)
    return None


def opened(t: float, severity: Severity) -> Signal:
    """An instant episode at device time t (an offline device, a fault code)."""
    return Signal(
        episodes=1,
        first_ts=t,
        last_ts=t,
        severity=list(Severity).index(severity),
        peak_index=0,
        cleared_at=None,
        active=True,
        episode_start=t,
    )


def clearing(rule: str, detector: str, severity: Severity, t: float) -> Finding:
    """A finding that only clears its key at device time t."""
    return Finding(
        rule=rule,
        detector=detector,
        metric=None,
        severity=severity,
        signal=Signal.idle(active=False, cleared_at=t),
        value=None,
        threshold=None,
        score=None,
        sentence="",
    )
