"""API shapes of a device type's detection data: catalog rules, operating regime, relations
(stored with the type; analytics/monitor/catalog.py builds the live rules from them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import MetricName, Slug

_IN = ConfigDict(extra="forbid")

Severity = Literal["info", "warning", "major", "critical"]
Duration = Annotated[float, Field(ge=0, le=30 * 86400)]
Limit = Annotated[float, Field(ge=-1e15, le=1e15)]


class _Rule(BaseModel):
    """What every rule has: a name (its alert key is `rule:<name>`) and the metric it judges."""

    model_config = _IN
    name: Slug
    metric: MetricName


class ThresholdRuleIn(_Rule):
    """Alert while `metric` `op` `limit` has held for `for_s` s; clears `hysteresis` inside."""

    kind: Literal["threshold"]
    op: Literal[">", "<"]
    limit: Limit
    for_s: Duration = 0.0
    hysteresis: Annotated[float, Field(ge=0, le=1e15)] = 0.0
    severity: Severity = "warning"


class RateRuleIn(_Rule):
    """Alert when `metric` changes faster than `max_per_min` per minute (over 5 minutes)."""

    kind: Literal["rate"]
    max_per_min: Annotated[float, Field(gt=0, le=1e15)]
    severity: Severity = "warning"


class RiseRuleIn(_Rule):
    """Alert when `metric` rises more than `limit` above the `reference` metric."""

    kind: Literal["rise"]
    reference: MetricName
    limit: Annotated[float, Field(gt=0, le=1e15)]
    severity: Severity = "major"


class SlopeRuleIn(_Rule):
    """Four-level early warning on the movement rate of `metric` (mm/day reference speed)."""

    kind: Literal["slope"]
    v_ref_per_day: Annotated[float, Field(gt=0, le=1e6)]
    reference: MetricName | None = None


RuleIn = Annotated[
    ThresholdRuleIn | RateRuleIn | RiseRuleIn | SlopeRuleIn, Field(discriminator="kind")
]


class RegimeIn(BaseModel):
    """The machine runs while `driver` > `above`; readings count `settle_s` after a switch."""

    model_config = _IN
    driver: MetricName
    above: Limit
    settle_s: Duration = 0.0
    duty: Annotated[float, Field(gt=0, le=1)] = 1.0


class RelationIn(BaseModel):
    """`target` is a polynomial of `inputs` (degree 1-3); its residual is watched."""

    model_config = _IN
    target: MetricName
    inputs: list[MetricName] = Field(min_length=1, max_length=5)
    degree: int = Field(default=1, ge=1, le=3)


class DetectionIn(BaseModel):
    """The metrics a type's rules, regime and relations name must be in its catalog."""

    rules: list[RuleIn] = Field(default_factory=list, max_length=100)
    regime: RegimeIn | None = None
    relations: list[RelationIn] = Field(default_factory=list, max_length=20)

    def named_metrics(self) -> set[str]:
        """Every metric the detection data refers to."""
        names = {r.metric for r in self.rules}
        names |= {
            r.reference
            for r in self.rules
            if isinstance(r, RiseRuleIn | SlopeRuleIn) and r.reference is not None
        }
        names |= {m for rel in self.relations for m in (rel.target, *rel.inputs)}
        return names | ({self.regime.driver} if self.regime else set())

    def data(self) -> dict[str, Any]:
        """As stored with the device type."""
        return self.model_dump(mode="json", exclude_none=False)
