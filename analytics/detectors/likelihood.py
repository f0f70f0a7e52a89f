"""Anomaly likelihood: how unusual the latest detector score is against its own history.

Raw detector scores drift with the character of a series (a noisy series scores higher all
the time). Comparing each score with the mean and spread of the previous `history` scores
(a Gaussian tail, Φ(z)) turns them into a likelihood that means the same on any series; a
refractory period then keeps one alarm per episode. The idea follows the anomaly likelihood
of Ahmad et al. (2017, "Unsupervised real-time anomaly detection for streaming data").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr  # type: ignore[import-untyped]

F = np.ndarray


@dataclass(slots=True)
class Likelihood:
    """Streaming likelihood of scores, exact across batch boundaries."""

    history: int = 2000
    past: F = field(default_factory=lambda: np.empty(0))

    def update(self, scores: F) -> F:
        """Φ((s - mean) / sd) of each score against the `history` scores before it."""
        s = np.asarray(scores, dtype=np.float64)
        joined = np.concatenate([self.past, s])
        c1 = np.concatenate([[0.0], np.cumsum(joined)])
        c2 = np.concatenate([[0.0], np.cumsum(joined * joined)])
        idx = np.arange(len(self.past), len(joined))
        lo = np.maximum(idx - self.history, 0)
        n = np.maximum(idx - lo, 1)
        mean = (c1[idx] - c1[lo]) / n
        var = np.maximum((c2[idx] - c2[lo]) / n - mean * mean, 1e-12)
        self.past = joined[-self.history :]
        out: F = np.where(idx - lo > 1, ndtr((s - mean) / np.sqrt(var)), 0.5)
        return out


@dataclass(slots=True)
class Refractory:
    """Keep the first alarm of an episode: none within `rows` readings of the previous one."""

    rows: int = 200
    since: int = 10**9

    def update(self, alarm: np.ndarray) -> np.ndarray:
        """The alarms that survive, for a batch of booleans."""
        out = np.zeros(len(alarm), dtype=bool)
        gap = self.since
        for i, a in enumerate(alarm):
            gap += 1
            if a and gap > self.rows:
                out[i], gap = True, 0
        self.since = gap
        return out
