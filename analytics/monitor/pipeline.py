"""Per-device detection: detectors and catalog rules per metric, trackers per alert key.

Pure logic: batches of (metric, device timestamps, values) in, `Finding`s out. The detect
service feeds it from the ingest feed; `servitize score` and the evaluations feed it files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analytics.alerts.models import Severity
from analytics.detectors.multivariate import MultivariateModel
from analytics.detectors.regime import RegimeState, regime_verdict
from analytics.detectors.relation import RelationDetector
from analytics.detectors.rules import SEVERITIES, Condition, RiseRule, SlopeRule, ThresholdRule
from analytics.detectors.tracker import Tracker
from analytics.detectors.univariate import (
    DRIFT,
    KIND_NAMES,
    BatchVerdict,
    DetectorConfig,
    SeriesDetector,
    Thresholds,
)
from analytics.monitor import catalog, describe, muting
from analytics.monitor.findings import Finding as Finding
from analytics.monitor.late import late_findings
from analytics.monitor.modelscore import model_findings
from analytics.monitor.muting import COINCIDENT_S

F = np.ndarray
# Detectors' alerts stay active 5 minutes past their last anomalous reading: long enough to
# bridge the gaps of an intermittent fault, short enough that a clear means something.
DETECTOR_HOLD_S = 300.0
RULE_HOLD_S = 60.0
# Drift is slow: one episode per excursion, not one per wobble while it lasts.
DRIFT_HOLD_S = 6 * 3600.0
# A reading this many robust sds from its baseline counts as that metric jumping too, even
# below its own alert limit (a truck bends the deck as it shakes it).
COMPANION_Z = 5.0
# The saved-limits key of a metric's stopped-regime detector is the metric plus this.
STOPPED = "@stopped"


def hold_for(key: str, detection: catalog.Detection | None = None) -> float:
    """How long a key's condition must stay clear before its alert clears."""
    if key.startswith("rule:"):
        rules = detection or catalog.Detection()
        return rules.hold_s(key.removeprefix("rule:"), RULE_HOLD_S)
    return DRIFT_HOLD_S if key.startswith("drift:") else DETECTOR_HOLD_S


@dataclass(slots=True)
class SeriesState:
    """Detectors, rules and the watermark of one metric of one device."""

    detector: SeriesDetector
    rules: list[catalog.Rule]
    watermark: float = -np.inf
    late: int = 0
    # the keys whose learnt limits have been handed out for saving
    saved: set[str] = field(default_factory=set)
    # device times of recent readings at least COMPANION_Z from their baseline
    jumps: F = field(default_factory=lambda: np.empty(0))
    # the detector of the stopped regime, for device types with an operating regime
    idle: SeriesDetector | None = None


@dataclass(slots=True)
class DevicePipeline:
    """Everything that judges one device's readings."""

    device_id: str
    device_type: str
    units: dict[str, str] = field(default_factory=dict)
    config: DetectorConfig = field(default_factory=DetectorConfig)
    # set from the type's reporting interval; 0 keeps config.warmup
    reporting_interval_s: float = 0.0
    warmup_s: float = catalog.WARMUP_S
    series: dict[str, SeriesState] = field(default_factory=dict)
    trackers: dict[str, Tracker] = field(default_factory=dict)
    # device time of the last reading that satisfied the type's context driver (rain)
    context_ts: float = -np.inf
    model: MultivariateModel | None = None
    model_tail: F | None = None
    regime: RegimeState | None = None
    # each metric's catalog range (min, max; None where open)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    # the type's cross-metric relations, by relation key, and the keys whose fit was saved
    relations: dict[str, RelationDetector] = field(default_factory=dict)
    relations_saved: set[str] = field(default_factory=set)
    # the type's catalog rules, regime and relations (its stored data); None: the seeded
    # data of a built-in type of this id (tools that run without a database)
    detection: catalog.Detection | None = None

    def __post_init__(self) -> None:
        if self.detection is None:
            self.detection = catalog.builtin(self.device_type)

    def hold_for(self, key: str) -> float:
        """How long a key's condition must stay clear before its alert clears."""
        return hold_for(key, self.detection)

    def judge_many(self, batch: dict[str, tuple[F, F]]) -> list[Finding]:
        """Judge one batch of several metrics, muting coincident openings (state changes)."""
        found: list[Finding] = []
        reg = self._regime()
        if reg is not None and reg.regime.driver in batch:  # the driver first: it sets the regime
            batch = {reg.regime.driver: batch[reg.regime.driver], **batch}
        for metric in batch:
            for rule in self._series(metric).rules:
                if isinstance(rule, RiseRule | SlopeRule) and rule.reference in batch:
                    rule.set_reference(*batch[rule.reference])
        for metric, (ts, values) in batch.items():
            found += self.judge(metric, ts, values)
        for det in self._relations().values():
            found += self._relate(det, batch)
        if self.model is not None:
            found += self._model(batch)
        jumps = {m: st.jumps for m, st in self.series.items()}
        muted = muting.coincident(found, jumps) | self._explained(batch, found)
        for key in muted:
            # an episode that already ended inside this batch must not mute the next one
            self.trackers[key].muted = self.trackers[key].active
        return [f for f in found if f.rule not in muted]

    def _model(self, batch: dict[str, tuple[F, F]]) -> list[Finding]:
        """Score the batch with the type's multivariate model (windows span batches)."""
        assert self.model is not None
        tracker = self.trackers.setdefault("model:multivariate", Tracker(DETECTOR_HOLD_S))
        found, self.model_tail = model_findings(self.model, self.model_tail, tracker, batch)
        return found

    def _explained(self, batch: dict[str, tuple[F, F]], found: list[Finding]) -> set[str]:
        """Openings that the device type's context (e.g. recent rain) explains."""
        ctx = catalog.CONTEXTS.get(self.device_type)
        if ctx is None:
            return set()
        if ctx.driver in batch:
            ts, values = batch[ctx.driver]
            hits = ts[np.asarray(values) >= ctx.at_least]
            if len(hits):
                self.context_ts = max(self.context_ts, float(hits[-1]))
        return muting.explained(ctx, self.context_ts, found)

    def unsaved_limits(self) -> list[tuple[str, dict[str, object]]]:
        """Limits learnt since the last call (to persist), marking them saved.

        A stopped regime's limits are saved as '<metric>@stopped', a relation's fit under
        its key ('<target>~<inputs>').
        """
        out = []
        for metric, state in self.series.items():
            for key, det in ((metric, state.detector), (metric + STOPPED, state.idle)):
                lim = det.limits if det is not None else None
                if lim is not None and key not in state.saved:
                    state.saved.add(key)
                    out.append((key, lim.to_json()))
        for key, rel in self.relations.items():
            fit = rel.to_json()
            if fit is not None and key not in self.relations_saved:
                self.relations_saved.add(key)
                out.append((key, fit))
        return out

    def restore_limits(self, key: str, limits: dict[str, Any]) -> None:
        """Give a series the limits it learnt before a restart (older versions are relearnt)."""
        if key in self._relations():
            if self.relations[key].restore(limits):
                self.relations_saved.add(key)
            return
        if not Thresholds.current(limits):
            return
        state = self._series(key.removesuffix(STOPPED))
        det = state.idle if key.endswith(STOPPED) else state.detector
        if det is not None:
            det.restore(Thresholds.from_json(limits))
            state.saved.add(key)

    def judge(self, metric: str, ts: F, values: F) -> list[Finding]:
        """Judge readings of one metric (epoch seconds); late ones get point checks only."""
        state = self._series(metric)
        order = np.argsort(ts, kind="stable")
        ts, values = np.asarray(ts, float)[order], np.asarray(values, float)[order]
        late = ts <= state.watermark
        findings: list[Finding] = []
        if late.any():
            state.late += int(late.sum())
            unit = self.units.get(metric, "")
            findings = late_findings(state.rules, metric, unit, ts[late], values[late])
        ts, values = ts[~late], values[~late]
        if not len(ts):
            return findings
        state.watermark = float(ts[-1])
        reg = self._regime()
        if reg is not None and metric == reg.regime.driver:
            reg.observe(ts, values)
        if catalog.watched(self.device_type, metric):
            if reg is None or state.idle is None:
                verdict = state.detector.update(values, ts)
            else:
                verdict = regime_verdict(reg.phase(ts), state.detector, state.idle, values, ts)
            big = ts[np.abs(np.nan_to_num(verdict.z)) >= COMPANION_Z]
            state.jumps = np.concatenate([state.jumps[state.jumps >= ts[0] - COINCIDENT_S], big])
            findings += self._detectors(metric, ts, values, verdict)
        for rule in state.rules:
            cond = rule.evaluate(ts, values)
            findings += self._track(f"rule:{rule.name}", _kind(rule), metric, ts, values, cond)
        return findings

    def _config(self) -> DetectorConfig:
        """The detector config with the warm-up sized from the type's reporting interval."""
        if not self.reporting_interval_s:
            return self.config
        cfg = self.config
        warm = catalog.warmup_readings(self.reporting_interval_s, self.warmup_s)
        # windows older than their own span (readings missed, or a regime away) are stale
        stale = cfg.window * self.reporting_interval_s
        return replace(cfg, warmup=max(warm, cfg.window + cfg.noise_window), stale_s=stale)

    def _regime(self) -> RegimeState | None:
        """The device type's operating regime, if its catalog names one."""
        if self.regime is None and self.detection and self.detection.regime:
            self.regime = RegimeState(self.detection.regime)
        return self.regime

    def _series(self, metric: str) -> SeriesState:
        if metric not in self.series:
            det = self.detection or catalog.Detection()
            rules = [r for r in det.rules() if r.metric == metric]
            config = self._config()
            lo, hi = self.ranges.get(metric, (None, None))
            bounds = (-np.inf if lo is None else lo, np.inf if hi is None else hi)
            reg = self._regime()
            if reg is None:
                self.series[metric] = SeriesState(SeriesDetector(config, bounds=bounds), rules)
            else:
                duty = reg.regime.duty
                running, stopped = _share(config, duty), _share(config, 1.0 - duty)
                self.series[metric] = SeriesState(
                    SeriesDetector(running, bounds=bounds),
                    rules,
                    idle=SeriesDetector(stopped, bounds=bounds),
                )
        return self.series[metric]

    def _relations(self) -> dict[str, RelationDetector]:
        """The device type's relations, created on first use."""
        if not self.relations:
            for rel in self.detection.relations if self.detection else ():
                self.relations[rel.key] = RelationDetector(rel, self._config())
        return self.relations

    def _relate(self, det: RelationDetector, batch: dict[str, tuple[F, F]]) -> list[Finding]:
        """Spike and drift of one relation's residual, keyed 'spike:<target>~<inputs>'."""
        v = det.update(batch)
        if v is None:
            return []
        rel = det.relation
        return self._flagged(rel.key, rel.target, v.ts, v.value, v.verdict, v.predicted, det)

    def _detectors(self, metric: str, ts: F, x: F, v: BatchVerdict) -> list[Finding]:
        # A metric in a fitted relation drifts in its residual, free of load and weather;
        # its own series' drift would be the weather again.
        if any(d.fitted and metric in d.relation.metrics for d in self.relations.values()):
            v.flags = v.flags & ~DRIFT
        return self._flagged(metric, metric, ts, x, v, v.baseline)

    def _flagged(
        self,
        series: str,
        metric: str,
        ts: F,
        x: F,
        v: BatchVerdict,
        expected: F,
        relation: RelationDetector | None = None,
    ) -> list[Finding]:
        """Findings of a verdict's flags, keyed '<detector>:<series>' (a metric or a relation).

        `expected` is what each reading was judged against: the series' baseline, or what a
        relation's inputs predicted.
        """
        out: list[Finding] = []
        for bit, name in KIND_NAMES.items():
            firing = (v.flags & bit) > 0
            key = f"{name}:{series}"
            if not firing.any() and not self._active(key):
                continue
            sev = np.full(len(x), SEVERITIES.index("warning"), np.int64)
            cond = Condition(firing, ~firing, sev, x, expected, v.score)
            out += self._track(key, name, metric, ts, x, cond, v, relation)
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
        relation: RelationDetector | None = None,
    ) -> list[Finding]:
        tracker = self.trackers.setdefault(key, Tracker(self.hold_for(key)))
        sig = tracker.process(ts, cond)
        if sig is None:
            return []
        if tracker.muted:
            tracker.muted = sig.active
            return []
        i = sig.peak_index
        unit = self.units.get(metric, "")
        if relation is None:
            ev = describe.evidence(kind, i, cond, verdict, self.series[metric].detector)
            text = describe.sentence(kind, metric, unit, sig, ev)
        else:
            ev = describe.evidence(kind, i, cond, verdict, relation.residual)
            if i is not None:  # the condition carries the prediction where a series has a baseline
                ev.update(predicted=float(cond.threshold[i]), inputs=list(relation.relation.inputs))
            text = describe.relation_sentence(kind, relation.relation, unit, sig, ev)
        return [
            Finding(
                rule=key,
                detector=kind,
                metric=metric,
                severity=Severity.of_rank(sig.severity),
                signal=sig,
                value=ev.get("value"),
                threshold=ev.get("threshold"),
                score=ev.get("score"),
                sentence=text,
                evidence=ev,
            )
        ]


def _share(config: DetectorConfig, duty: float) -> DetectorConfig:
    """A regime's detector warms up on its share of the warm-up's readings."""
    floor = config.window + config.noise_window
    warmup = max(int(duty * config.warmup), floor)
    return replace(config, warmup=warmup, gap_restarts_drift=True)


def _kind(rule: catalog.Rule) -> str:
    if isinstance(rule, SlopeRule):
        return "slope"
    if isinstance(rule, RiseRule):
        return "rise"
    return "threshold" if isinstance(rule, ThresholdRule) else "rate"
