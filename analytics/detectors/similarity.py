"""Similarity model of normal behaviour (MSET-style): estimate each row from remembered states.

A memory of up to `memory` states of normal operation (k-means centres of the standardised
training rows, plus each sensor's extreme rows so the memory spans the operating range) is
what the machine looks like when healthy. A row is estimated as the similarity-weighted mean
of the memory states (Gaussian kernel of the distance, bandwidth from the training rows'
distances to their nearest state); the residual (row - estimate) per sensor, over that
sensor's residual spread on the training rows, is large where the row is unlike every
healthy state, and says which sensors moved. The statistic is the mean squared scaled
residual,; the caller sets its limit from held-out training rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans

F = np.ndarray
MEMORY = 64
CHUNK = 8192


def _memory(z: F, size: int, seed: int) -> F:
    k = min(size, len(z))
    centres: F = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(z).cluster_centers_
    extremes = z[np.concatenate([z.argmin(axis=0), z.argmax(axis=0)])]
    out: F = np.unique(np.concatenate([centres, extremes]), axis=0)
    return out


def _sq_dist(a: F, b: F) -> F:
    d: F = (a**2).sum(1)[:, None] - 2.0 * a @ b.T + (b**2).sum(1)[None, :]
    out: F = np.maximum(d, 0.0)
    return out


@dataclass(frozen=True, slots=True)
class SimilarityModel:
    """Memory states, kernel bandwidth and per-sensor residual scale."""

    memory: F
    bandwidth: float
    scale: F

    @staticmethod
    def train(z: F, memory: int = MEMORY, seed: int = 0) -> SimilarityModel:
        mem = _memory(z, memory, seed)
        nearest = np.sqrt(_sq_dist(z, mem).min(axis=1))
        h = float(max(2.0 * np.median(nearest), 0.1))
        model = SimilarityModel(mem, h, np.ones(z.shape[1]))
        rms = np.sqrt(np.mean(model.residuals(z) ** 2, axis=0))
        return SimilarityModel(mem, h, np.maximum(rms, 0.05))

    def estimate(self, z: F) -> F:
        """Similarity-weighted mean of the memory states for each row."""
        out = np.empty_like(z)
        for a in range(0, len(z), CHUNK):
            d = _sq_dist(z[a : a + CHUNK], self.memory)
            w = np.exp(-(d - d.min(axis=1, keepdims=True)) / (2.0 * self.bandwidth**2))
            out[a : a + CHUNK] = (w @ self.memory) / w.sum(axis=1, keepdims=True)
        return out

    def residuals(self, z: F) -> F:
        out: F = z - self.estimate(z)
        return out

    def statistics(self, z: F) -> tuple[F, F]:
        """Statistic (rows x 1: mean squared scaled residual) and parts (rows x 1 x sensors)."""
        parts = (self.residuals(z) / self.scale) ** 2 / z.shape[1]
        return parts.sum(axis=1)[:, None], parts[:, None, :]
