"""Anomaly state with hysteresis: on from an onset until the series is back to normal.

A detector's score is in units of its limit (1.0 = at the limit). The state turns on at a row
whose score reaches `enter` and stays on until `hold` rows in a row score below `leave`
(< enter), so a score wavering around its limit is one episode, not a burst of onsets. Onset
alarms are the rows where the state turns on. Vectorised over a batch and exact across batch
boundaries (the carry is whether the state is on and how many rows have been calm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F = np.ndarray


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """Enter at score >= enter; leave after `hold` rows in a row below `leave`."""

    enter: float = 1.0
    leave: float = 0.8
    hold: int = 10

    def __post_init__(self) -> None:
        if not 0 < self.leave <= self.enter or self.hold < 1:
            raise ValueError("need 0 < leave <= enter and hold >= 1")


class AnomalyState:
    """Streaming anomaly state over scores; `update` returns (state, onsets) per row."""

    def __init__(self, rule: Hysteresis | None = None) -> None:
        self.rule = rule or Hysteresis()
        self.on = False
        self.calm = 0  # rows in a row below `leave` at the end of the last batch

    def update(self, score: F) -> tuple[F, F]:
        """Boolean state and onset per row of `score` (NaN counts as calm)."""
        s = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=0.0)
        n, idx = len(s), np.arange(len(s))
        hot, calm = s >= self.rule.enter, s < self.rule.leave
        last_hot = np.maximum.accumulate(np.where(hot, idx, -1 if self.on else -2))
        last_busy = np.maximum.accumulate(np.where(calm, -1 - self.calm, idx))
        released = (idx - last_busy) >= self.rule.hold
        last_release = np.maximum.accumulate(np.where(released, idx, -2 if self.on else -1))
        state = last_hot > last_release
        prev = np.concatenate([[self.on], state[:-1]]) if n else state
        if n:
            self.on = bool(state[-1])
            self.calm = int(idx[-1] - last_busy[-1])
        return state, state & ~prev
