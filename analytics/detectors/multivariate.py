"""Multivariate model per device type: IsolationForest on windowed features.

Rows are a device's readings aligned by timestamp (metrics in catalog order, gaps carried
forward). Features of the window ending at each row: mean, standard deviation and change
(last - first) of each metric over `window` rows, so the model sees level, noise and trend
of every metric together — a combination can be anomalous when no single metric is. The
features are PCA-whitened with the training covariance before the forest sees them.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.ensemble import IsolationForest

F = np.ndarray
WINDOW = 12
# Flag scores above the 99.9th percentile of the training data (a 0.1 % false-flag rate
# on data like the training window).
FLAG_QUANTILE = 0.999
FLAG_MARGIN = 1.0


def features(rows: F, window: int = WINDOW) -> F:
    """Window features for each row from index window-1 on: (n - window + 1, 3 * metrics)."""
    win = sliding_window_view(rows, window, axis=0)  # (n-w+1, metrics, w)
    change = win[:, :, -1] - win[:, :, 0]
    out: F = np.concatenate([win.mean(axis=2), win.std(axis=2), change], axis=1)
    return out


def _whitener(centered: F) -> F:
    """PCA whitening matrix: a broken correlation between metrics becomes an extreme value
    along a minor axis, which isolation trees separate quickly."""
    cov = np.cov(centered, rowvar=False)
    vals, vecs = np.linalg.eigh(np.atleast_2d(cov))
    floor = 1e-6 * max(float(vals.max()), 1e-12)
    out: F = vecs / np.sqrt(np.maximum(vals, floor))
    return out


def carry_forward(rows: F, start: F | None = None) -> F:
    """Fill NaN cells with the last finite value above them (then with `start`, then 0)."""
    out = rows.copy()
    last = np.zeros(rows.shape[1]) if start is None else start.copy()
    for i in range(len(out)):
        bad = ~np.isfinite(out[i])
        out[i, bad] = last[bad]
        last = out[i]
    return out


@dataclass(slots=True)
class MultivariateModel:
    """A fitted IsolationForest with its standardisation and flag threshold."""

    metrics: tuple[str, ...]
    window: int
    center: F
    scale: F
    forest: IsolationForest
    threshold: float = 0.0
    meta: dict[str, object] = field(default_factory=dict)

    @staticmethod
    def fit(
        metrics: tuple[str, ...], devices: list[F], window: int = WINDOW, seed: int = 0
    ) -> MultivariateModel:
        """Train on each device's aligned rows of normal operation."""
        parts = [features(carry_forward(r), window) for r in devices if len(r) >= window]
        feats = np.concatenate(parts) if parts else np.empty((0, 3 * len(metrics)))
        if len(feats) < 50:
            raise ValueError(f"need at least {50 + window} aligned rows to train, got {len(feats)}")
        center = feats.mean(axis=0)
        scale = _whitener(feats - center)
        z = (feats - center) @ scale
        forest = IsolationForest(n_estimators=100, max_samples=min(256, len(z)), random_state=seed)
        forest.fit(z)
        model = MultivariateModel(metrics, window, center, scale, forest)
        model.threshold = FLAG_MARGIN * float(np.quantile(model.raw_scores(feats), FLAG_QUANTILE))
        return model

    def raw_scores(self, feats: F) -> F:
        """Anomaly score per feature row (higher = more anomalous, about 0.3-0.8)."""
        z = (feats - self.center) @ self.scale
        out: F = -self.forest.score_samples(z)
        return out

    def score_rows(self, rows: F) -> tuple[F, F]:
        """(scores, flags) for the windows ending at rows[window-1:]."""
        s = self.raw_scores(features(carry_forward(rows), self.window))
        return s, s > self.threshold

    def dumps(self) -> bytes:
        """Serialise for the models table (our own objects only)."""
        buf = io.BytesIO()
        pickle.dump(self, buf, protocol=pickle.HIGHEST_PROTOCOL)
        return buf.getvalue()

    @staticmethod
    def loads(blob: bytes) -> MultivariateModel:
        """Load a model saved by dumps (from this project's own database)."""
        model = pickle.loads(blob)
        if not isinstance(model, MultivariateModel):
            raise TypeError("not a MultivariateModel")
        return model
