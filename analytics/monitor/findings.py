"""What the pipelines hand to the alert store: one key's change in one batch."""

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
