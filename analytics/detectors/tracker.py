"""Turns per-reading conditions into alert transitions, with a hold time for clearing.

A key (device, rule) is active from its first firing reading until the rule has allowed
clearing (`clear_ok`, i.e. past its hysteresis) for `hold_s` seconds of device time. A
signal flapping around a limit therefore stays one active alert instead of opening and
closing in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.detectors.rules import Condition


@dataclass(slots=True, kw_only=True)
class Signal:
    """What one batch did to one key: episodes opened, evidence span, peak, end state."""

    episodes: int
    first_ts: float | None
    last_ts: float | None
    severity: int
    peak_index: int | None
    cleared_at: float | None
    active: bool
    episode_start: float | None = None

    @classmethod
    def idle(cls, *, active: bool, cleared_at: float | None = None) -> Signal:
        """No episode and no evidence yet: only the end state."""
        return cls(
            episodes=0,
            first_ts=None,
            last_ts=None,
            severity=0,
            peak_index=None,
            cleared_at=cleared_at,
            active=active,
        )

    @property
    def fired(self) -> bool:
        """Whether any reading fired in this batch."""
        return self.last_ts is not None


@dataclass(slots=True)
class Tracker:
    """Streaming alert state of one key."""

    hold_s: float = 60.0
    active: bool = False
    clear_since: float | None = None
    episode_start: float | None = None
    # a muted episode is tracked but not reported (see DevicePipeline.judge_many)
    muted: bool = False

    def process(self, ts: np.ndarray, cond: Condition) -> Signal | None:
        """Fold one batch in; None when nothing fired and nothing changed."""
        if not self.active and not cond.firing.any():
            return None
        sig = Signal.idle(active=self.active)
        best = -np.inf
        for i in range(len(ts)):
            if cond.firing[i]:
                self._fire(sig, float(ts[i]), i)
                sig.severity = max(sig.severity, int(cond.severity[i]))
                if cond.strength[i] > best:
                    best, sig.peak_index = float(cond.strength[i]), i
            elif self.active:
                self._maybe_clear(sig, float(ts[i]), bool(cond.clear_ok[i]))
        sig.active = self.active
        sig.episode_start = self.episode_start
        return sig

    def _fire(self, sig: Signal, t: float, i: int) -> None:
        if not self.active:
            sig.episodes += 1
            self.active = True
            self.episode_start = t
            if sig.first_ts is None:
                sig.first_ts = t
        elif sig.first_ts is None:
            sig.first_ts = t
        sig.last_ts = t
        self.clear_since = None

    def _maybe_clear(self, sig: Signal, t: float, ok: bool) -> None:
        if not ok:
            self.clear_since = None
            return
        if self.clear_since is None:
            self.clear_since = t
        if t - self.clear_since >= self.hold_s:
            self.active = False
            self.clear_since = None
            sig.cleared_at = t
