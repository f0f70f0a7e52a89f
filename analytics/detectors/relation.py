"""Cross-metric consistency: a metric the device's physics ties to others, judged by its residual.

A truck strains a bridge deck and bends it at the same instant; a pump's motor current follows
its flow along the pump curve. Such a metric's own series swings with the load, so a failing
sensor hides among the swings: a spike looks like a truck, a slow drift like the weather. Its
residual against the metrics it depends on does not swing: trucks, traffic and weather cancel,
and what is left is sensor noise plus the fault. This is the analytical-redundancy idea of
sensor validation in structural monitoring (Kullaa 2013, "Detection, identification, and
quantification of sensor fault in a sensor network", Mech. Syst. Signal Process. 40(1)).

The relation is fitted by least squares on the warm-up (a polynomial of the inputs), then a
`SeriesDetector` watches the residual for spikes and drift with its own self-tuned limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analytics.detectors.univariate import (
    DRIFT,
    SPIKE,
    BatchVerdict,
    DetectorConfig,
    SeriesDetector,
    Thresholds,
)
from analytics.detectors.windows import MAD_TO_SD

F = NDArray[np.float64]
# Residuals further than this many robust sds from the first fit are refitted without
# (a spike or a comm glitch in the warm-up must not bend the relation).
REFIT_SD = 5.0
# A residual this many of its warm-up sds from the fit is off the relation; closer, it is the
# relation holding (however far it is from the residual's recent readings).
DEPARTED_SD = 5.0
# Saved relation state of another version is relearnt.
RELATION_VERSION = 1


@dataclass(frozen=True, slots=True)
class Relation:
    """`target` ≈ a polynomial of `inputs` of the given degree (plus an intercept)."""

    target: str
    inputs: tuple[str, ...]
    degree: int = 1

    def __post_init__(self) -> None:
        if not self.inputs or self.target in self.inputs:
            raise ValueError("a relation needs inputs other than its target")
        if not 1 <= self.degree <= 3:
            raise ValueError("degree must be 1, 2 or 3")

    @property
    def key(self) -> str:
        """The name alert keys and saved state use, e.g. 'strain_ue~deflection_mm+temp_c'."""
        return f"{self.target}~{'+'.join(self.inputs)}"

    @property
    def metrics(self) -> tuple[str, ...]:
        """Target and inputs."""
        return (self.target, *self.inputs)

    def features(self, x: F) -> F:
        """Design matrix of input columns x (rows x inputs): 1, each input's powers."""
        powers = [x**p for p in range(1, self.degree + 1)]
        return np.column_stack([np.ones(len(x)), *powers])


@dataclass(slots=True)
class RelationVerdict:
    """The judged rows of one batch: times, target values, predictions and the verdict."""

    ts: F
    value: F
    predicted: F
    verdict: BatchVerdict


@dataclass(slots=True)
class RelationDetector:
    """Fits one relation on the warm-up, then watches its residual."""

    relation: Relation
    config: DetectorConfig = field(default_factory=DetectorConfig)
    coef: F | None = None
    # input column centres and spreads, so powers of large inputs stay well conditioned
    centre: F | None = None
    spread: F | None = None
    warm_ts: F = field(default_factory=lambda: np.empty(0))
    warm_rows: F = field(default_factory=lambda: np.empty((0, 0)))
    residual: SeriesDetector = field(init=False)

    def __post_init__(self) -> None:
        self.residual = SeriesDetector(self.config)

    @property
    def fitted(self) -> bool:
        """Whether the relation has been fitted."""
        return self.coef is not None

    def update(self, batch: dict[str, tuple[F, F]]) -> RelationVerdict | None:
        """Judge the rows where target and inputs were all read at the same device time."""
        rows = align(batch, self.relation.metrics)
        if rows is None:
            return None
        ts, data = rows
        # inputs all exactly zero: a stopped machine, with nothing to relate
        moving = np.any(data[:, 1:] != 0.0, axis=1)
        ts, data = ts[moving], data[moving]
        if self.coef is None and len(ts):
            ts, data = self._learn(ts, data)
        if not len(ts):
            return None
        predicted = self.predict(data[:, 1:])
        residual = data[:, 0] - predicted
        verdict = self.residual.update(residual, ts)
        verdict.flags &= SPIKE | DRIFT  # a residual's runs and roughness mean nothing more
        verdict.flags[~self._departed(residual)] = 0
        return RelationVerdict(ts, data[:, 0], predicted, verdict)

    def _departed(self, residual: F) -> NDArray[np.bool_]:
        """Rows whose residual is off the fit itself, not just off its recent readings.

        The physics does not move: a residual back at zero is the sensor recovering (after a
        fault, or a stop that froze the windows mid-fault), not a new spike or drift.
        """
        lim = self.residual.limits
        if lim is None:
            return np.zeros(len(residual), dtype=bool)
        out: NDArray[np.bool_] = np.abs(residual) > DEPARTED_SD * lim.level_sd
        return out

    def predict(self, inputs: F) -> F:
        """The target the fitted relation expects for rows of inputs."""
        assert self.coef is not None and self.centre is not None and self.spread is not None
        x = (inputs - self.centre) / self.spread
        out: F = self.relation.features(x) @ self.coef
        return out

    def _learn(self, ts: F, data: F) -> tuple[F, F]:
        """Collect warm-up rows; fit once there are enough. Returns the rows left to judge."""
        need = self.config.warmup - len(self.warm_ts)
        keep = self.warm_rows if len(self.warm_rows) else np.empty((0, data.shape[1]))
        self.warm_rows = np.vstack([keep, data[:need]])
        self.warm_ts = np.concatenate([self.warm_ts, ts[:need]])
        if len(self.warm_ts) >= self.config.warmup:
            self._fit(self.warm_rows)
            # the residual detector learns its limits from the warm-up's own residuals
            warm = self.warm_rows
            self.residual.update(warm[:, 0] - self.predict(warm[:, 1:]), self.warm_ts)
            self.warm_ts, self.warm_rows = np.empty(0), np.empty((0, 0))
        return ts[need:], data[need:]

    def _fit(self, rows: F) -> None:
        y, x = rows[:, 0], rows[:, 1:]
        self.centre = np.median(x, axis=0)
        self.spread = np.maximum(np.std(x, axis=0), 1e-9)
        design = self.relation.features((x - self.centre) / self.spread)
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        res = y - design @ coef
        sd = MAD_TO_SD * float(np.median(np.abs(res - np.median(res))))
        ok = np.abs(res) <= REFIT_SD * sd if sd > 0 else np.ones(len(y), dtype=bool)
        if ok.sum() > design.shape[1]:
            coef = np.linalg.lstsq(design[ok], y[ok], rcond=None)[0]
        self.coef = np.asarray(coef, dtype=np.float64)

    def to_json(self) -> dict[str, object] | None:
        """Fitted coefficients and the residual's limits (None until both exist)."""
        lim = self.residual.limits
        if self.coef is None or self.centre is None or self.spread is None or lim is None:
            return None
        return {
            "relation_version": RELATION_VERSION,
            "relation": self.relation.key,
            "degree": self.relation.degree,
            "coef": self.coef.tolist(),
            "centre": self.centre.tolist(),
            "spread": self.spread.tolist(),
            "residual": lim.to_json(),
        }

    def restore(self, data: dict[str, Any]) -> bool:
        """Resume from saved state; False (nothing restored) for another version's state.

        A fit of another form (the catalog changed the relation's inputs or degree) is
        relearnt, not restored.
        """
        if data.get("relation_version") != RELATION_VERSION:
            return False
        if (data.get("relation"), data.get("degree")) != (self.relation.key, self.relation.degree):
            return False
        if not Thresholds.current(data["residual"]):
            return False
        self.coef = np.asarray(data["coef"], dtype=np.float64)
        self.centre = np.asarray(data["centre"], dtype=np.float64)
        self.spread = np.asarray(data["spread"], dtype=np.float64)
        self.residual.restore(Thresholds.from_json(data["residual"]))
        return True


def align(batch: dict[str, tuple[F, F]], metrics: tuple[str, ...]) -> tuple[F, F] | None:
    """Rows (device time, then one column per metric) where every metric has a finite reading.

    Devices publish all their metrics in one message, so a row's readings share a timestamp.
    """
    if any(m not in batch for m in metrics):
        return None
    series = [_finite_sorted(*batch[m]) for m in metrics]
    ts = series[0][0]
    for t, _ in series[1:]:
        ts = np.intersect1d(ts, t)
    if not len(ts):
        return None
    cols = [v[np.searchsorted(t, ts)] for t, v in series]
    return ts, np.column_stack(cols)


def _finite_sorted(ts: F, values: F) -> tuple[F, F]:
    t, v = np.asarray(ts, dtype=np.float64), np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v) & np.isfinite(t)
    order = np.argsort(t[ok], kind="stable")
    return t[ok][order], v[ok][order]
