"""Per-device detection: detectors and catalog rules per metric, trackers per alert key.

Pure logic: batches of (metric, device timestamps, values) in, `Finding`s out. The detect
service feeds it from the ingest feed; `servitize score` and the evaluations feed it files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analytics import catalog, describe
from analytics.detectors.multivariate import MultivariateModel
from analytics.detectors.rules import SEVERITIES, Condition, RiseRule, SlopeRule, ThresholdRule
from analytics.detectors.tracker import Signal, Tracker
from analytics.detectors.univariate import (
    KIND_NAMES,
    BatchVerdict,
    DetectorConfig,
    SeriesDetector,
    Thresholds,
)
from analytics.findings import Finding as Finding
from analytics.modelscore import model_findings
from analytics.regime import RegimeState, regime_verdict

F = np.ndarray
# Detectors' alerts stay active 5 minutes past their last anomalous reading: long enough to
# bridge the gaps of an intermittent fault, short enough that a clear means something.
DETECTOR_HOLD_S = 300.0
RULE_HOLD_S = 60.0
# Drift is slow: one episode per excursion, not one per wobble while it lasts.
DRIFT_HOLD_S = 6 * 3600.0
# Anomalies opening together on this many metrics of one device are the process (a pump
# starting, a robot leaving its dock, a heavy truck straining and bending a bridge deck), not
# a sensor fault: a failing sensor shows in that sensor alone. They are muted.
COINCIDENT_METRICS = 2
COINCIDENT_S = 60.0
# A reading this many robust sds from its baseline counts as that metric jumping too, even
# below its own alert limit (a truck bends the deck as it shakes it).
COMPANION_Z = 5.0


def hold_for(key: str) -> float:
    """How long a key's condition must stay clear before its alert clears."""
    if key.startswith("rule:"):
        return catalog.rule_hold_s(key.removeprefix("rule:"), RULE_HOLD_S)
    return DRIFT_HOLD_S if key.startswith("drift:") else DETECTOR_HOLD_S


@dataclass(slots=True)
class SeriesState:
    """Detectors, rules and the watermark of one metric of one device."""

    detector: SeriesDetector
    rules: list[catalog.Rule]
    watermark: float = -np.inf
    late: int = 0
    # whether the learnt limits have been handed out for saving
    saved: bool = False
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
        if self.model is not None:
            found += self._model(batch)
        muted = self._coincident(found) | self._explained(batch, found)
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
        return {
            f.rule
            for f in found
            if f.signal.episodes
            and ctx.explains(f.metric, f.detector)
            and (f.signal.episode_start or 0.0) - self.context_ts <= ctx.for_s
        }

    def _coincident(self, found: list[Finding]) -> set[str]:
        """Openings while another metric opens or jumps: an operating-state change."""
        opened = [
            f
            for f in found
            if f.signal.episodes and not f.rule.startswith("rule:") and f.metric is not None
        ]
        muted: set[str] = set()
        for f in opened:
            start = f.signal.episode_start or 0.0
            near = {
                g.metric
                for g in opened
                if abs((g.signal.episode_start or 0.0) - start) <= COINCIDENT_S
            } | self._jumping(start)
            if len(near) >= COINCIDENT_METRICS:
                muted.add(f.rule)
        return muted

    def _jumping(self, at: float) -> set[str | None]:
        """Metrics with a jump within COINCIDENT_S of a device time."""
        return {
            m
            for m, st in self.series.items()
            if len(st.jumps) and float(np.abs(st.jumps - at).min()) <= COINCIDENT_S
        }

    def unsaved_limits(self) -> list[tuple[str, dict[str, object]]]:
        """Limits learnt since the last call (to persist), marking them saved."""
        out = []
        for metric, state in self.series.items():
            lim = state.detector.limits
            if lim is not None and not state.saved:
                state.saved = True
                out.append((metric, lim.to_json()))
        return out

    def restore_limits(self, metric: str, limits: dict[str, Any]) -> None:
        """Give a series the limits it learnt before a restart (older versions are relearnt)."""
        if not Thresholds.current(limits):
            return
        state = self._series(metric)
        state.detector.restore(Thresholds.from_json(limits))
        state.saved = True

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

    def _regime(self) -> RegimeState | None:
        """The device type's operating regime, if its catalog names one."""
        if self.regime is None and self.device_type in catalog.REGIMES:
            self.regime = RegimeState(catalog.REGIMES[self.device_type])
        return self.regime

    def _series(self, metric: str) -> SeriesState:
        if metric not in self.series:
            rules = [r for r in catalog.rules_for(self.device_type) if r.metric == metric]
            config = self.config
            if self.reporting_interval_s:
                warm = catalog.warmup_readings(self.reporting_interval_s, self.warmup_s)
                config = replace(config, warmup=max(warm, config.window + config.noise_window))
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
        tracker = self.trackers.setdefault(key, Tracker(hold_for(key)))
        sig = tracker.process(ts, cond)
        if sig is None:
            return []
        if tracker.muted:
            tracker.muted = sig.active
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


def _share(config: DetectorConfig, duty: float) -> DetectorConfig:
    """A regime's detector warms up on its share of the warm-up's readings."""
    floor = config.window + config.noise_window
    return replace(config, warmup=max(int(duty * config.warmup), floor))


def _kind(rule: catalog.Rule) -> str:
    if isinstance(rule, SlopeRule):
        return "slope"
    if isinstance(rule, RiseRule):
        return "rise"
    return "threshold" if isinstance(rule, ThresholdRule) else "rate"
