"""A refractory period: one alarm per episode, none within `rows` readings of the last."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
