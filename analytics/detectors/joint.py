"""Joint normal behaviour of several sensors: train on a normal stretch, then score and state.

`JointDetector.train(rows, kind)` standardises the training rows (median and spread per
sensor), fits the chosen models (PCA T² + Q, the similarity model, or both) and sets each
statistic's limit with no labels, from the training rows themselves but held out: the rows are
cut into 20 contiguous blocks dealt round-robin to `FOLDS` folds, and each fold is scored by
models fitted on the other folds (spread-out blocks: a model of remembered states cannot
extrapolate, so holding out the first or last fifth would mostly measure the drift of the
training stretch),
and the limit is those held-out statistics' (smoothed as in scoring) 99.9th percentile,
extrapolated: a few hundred rows cannot show it, so the tail past the 90th percentile is taken
as exponential and the limit is q99 + (q99 - q90) (one more decade of rarity). In-sample
statistics would be optimistic (a model has seen its own training rows), so limits from them
would flag much of any new normal data.

`score(rows)` gives per row the score in limit units (the largest statistic over its limit,
each smoothed over the last `SMOOTH` rows), each sensor's share of the evidence, and the
anomaly state (`state.AnomalyState`: on at score 1, off after `Hysteresis.hold` rows below
0.8) with its onset alarms. Missing cells carry the sensor's last value forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from analytics.detectors.multivariate import carry_forward
from analytics.detectors.pca import PcaModel
from analytics.detectors.similarity import SimilarityModel
from analytics.detectors.state import AnomalyState, Hysteresis

F = np.ndarray
FOLDS = 5
BLOCKS = 4  # blocks per fold, spread over the training rows
SMOOTH = 5
MIN_TRAIN = 50


class JointKind(StrEnum):
    PCA = "pca"
    SIMILARITY = "similarity"
    BOTH = "both"


class _Model(Protocol):
    def statistics(self, z: F) -> tuple[F, F]: ...


def _fit(kind: JointKind, z: F) -> list[_Model]:
    models: list[_Model] = []
    if kind in (JointKind.PCA, JointKind.BOTH):
        models.append(PcaModel.train(z))
    if kind in (JointKind.SIMILARITY, JointKind.BOTH):
        models.append(SimilarityModel.train(z))
    return models


def smooth(stats: F, window: int = SMOOTH) -> F:
    """Causal moving mean down the rows (the first rows average what there is)."""
    c = np.cumsum(stats, axis=0)
    out = c.copy()
    out[window:] = c[window:] - c[:-window]
    counts = np.minimum(np.arange(1, len(stats) + 1), window)
    result: F = out / counts.reshape(-1, *([1] * (stats.ndim - 1)))
    return result


def tail_limit(stats: F) -> F:
    """Per column: the 99.9th percentile from an exponential tail past q90, q99 + (q99 - q90)."""
    q90, q99 = np.quantile(stats, [0.90, 0.99], axis=0)
    out: F = q99 + (q99 - q90)
    return out


def _stats(models: list[_Model], z: F) -> tuple[F, F]:
    pairs = [m.statistics(z) for m in models]
    return np.concatenate([p[0] for p in pairs], axis=1), np.concatenate([p[1] for p in pairs], 1)


def _held_out(kind: JointKind, z: F) -> F:
    """Each row's smoothed statistics from models fitted without its fold."""
    block = np.arange(len(z)) * (FOLDS * BLOCKS) // len(z)
    fold = block % FOLDS
    out = np.empty((len(z), len(_stats(_fit(kind, z[:MIN_TRAIN]), z[:1])[0][0])))
    for k in range(FOLDS):
        models = _fit(kind, z[fold != k])
        for b in np.unique(block[fold == k]):
            out[block == b] = smooth(_stats(models, z[block == b])[0])
    return out


@dataclass(frozen=True, slots=True)
class JointScores:
    """Per row: score (limit units), sensor shares (rows x sensors), state and onsets."""

    score: F
    shares: F
    state: F
    onset: F


@dataclass(frozen=True, slots=True)
class JointDetector:
    """Standardisation, fitted models and the limit of each of their statistics."""

    sensors: tuple[str, ...]
    kind: JointKind
    center: F
    spread: F
    models: tuple[_Model, ...]
    limits: F

    @staticmethod
    def train(sensors: tuple[str, ...], rows: F, kind: JointKind = JointKind.BOTH) -> JointDetector:
        """Fit on rows of normal operation (rows x sensors); NaN cells carried forward."""
        if len(rows) < MIN_TRAIN:
            raise ValueError(f"need at least {MIN_TRAIN} training rows, got {len(rows)}")
        x = carry_forward(rows, np.nanmedian(rows, axis=0))
        center = np.median(x, axis=0)
        spread = np.std(x, axis=0)
        spread = np.where(spread > 1e-9, spread, 1.0)
        z = (x - center) / spread
        limits = tail_limit(_held_out(kind, z))
        models = tuple(_fit(kind, z))
        return JointDetector(sensors, kind, center, spread, models, np.maximum(limits, 1e-9))

    def standardise(self, rows: F) -> F:
        out: F = (carry_forward(rows, self.center) - self.center) / self.spread
        return out

    def evaluate(self, rows: F) -> tuple[F, F]:
        """(score in limit units, sensor shares) per row, no state."""
        stats, parts = _stats(list(self.models), self.standardise(rows))
        ratio = smooth(stats) / self.limits
        weighted = (smooth(parts) / self.limits[None, :, None]).sum(axis=1)
        total = weighted.sum(axis=1, keepdims=True)
        return ratio.max(axis=1), weighted / np.where(total > 0, total, 1.0)

    def score(self, rows: F, rule: Hysteresis | None = None) -> JointScores:
        """Scores, shares, anomaly state and onsets for rows (one recording, in order)."""
        score, shares = self.evaluate(rows)
        state, onset = AnomalyState(rule).update(score)
        return JointScores(score, shares, state, onset)
