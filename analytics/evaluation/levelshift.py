"""Streaming range-breakout and level-shift scorer: the detector behind our NAB score.

Three cheap questions per reading, each answered only from that reading and the ones before:

* breakout: does the reading leave the range of everything seen so far by more than 5 % of
  that range? (Numenta's NAB detector adds the same "spatial anomaly" rule to its HTM score.)
* level shift: how many standard deviations (of the `history` readings before the recent
  ones) lies the mean of the last `recent` readings from the mean of that history?
* roughness shift: the same z for |first differences|, which moves when the noise level or
  the frequency of the series changes while its level does not.

The score is 1 for a breakout, else erf(z/√2) = 2Φ(z) - 1 of the larger z, so it lies in
[0, 1] as NAB asks. `ShiftAlarms` adds a warm-up, a threshold and a refractory period: the
stack that both `servitize evaluate nab` and `servitize score` run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf  # type: ignore[import-untyped]

from analytics.evaluation.refractory import Refractory

F = NDArray[np.float64]
B = NDArray[np.bool_]

# Chosen on NAB v1.1 (standard profile, grid 1.5-4 in z): the level-shift z that raises an alarm.
ALARM_Z = 2.25
# One alarm per 100 readings at most; 100-400 tried on NAB, shorter refractories lose less
# when a false alarm just before a real anomaly would otherwise mute it.
REFRACTORY = 100
# A relative floor under the history's standard deviation: a constant history would otherwise
# turn float noise into an infinite z.
REL_SD_FLOOR = 1e-6


def z_to_score(z: float | F) -> F:
    """The score of a level-shift z: 2Φ(z) - 1 (0 at z = 0, → 1 as z grows)."""
    return np.asarray(erf(np.asarray(z, dtype=np.float64) / math.sqrt(2.0)), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ShiftConfig:
    """Window sizes; fixed for every series (none is tuned per file)."""

    # the recent mean: ~4 h of 5-minute data, long enough to average out single spikes
    recent: int = 50
    # the reference: ~10 days of 5-minute data, long enough to include daily cycles
    history: int = 3000
    # no level-shift z before the reference holds this many readings
    min_history: int = 50
    # Numenta's spatial-anomaly tolerance: 5 % of the range seen so far
    breakout_margin: float = 0.05

    def __post_init__(self) -> None:
        if self.recent < 1 or self.history < self.min_history or self.min_history < 2:
            raise ValueError("need recent >= 1 and history >= min_history >= 2")


@dataclass(slots=True)
class ShiftVerdict:
    """Per-reading results of one batch (NaN z / score 0 for skipped, non-finite readings)."""

    score: F
    z: F
    rough_z: F
    breakout: B


@dataclass(slots=True)
class LevelShift:
    """Streaming |recent mean - history mean| / history sd of one series."""

    config: ShiftConfig = field(default_factory=ShiftConfig)
    past: F = field(default_factory=lambda: np.empty(0))

    def update(self, x: F) -> F:
        """The z of each value (0 until the history holds `min_history` values)."""
        cfg = self.config
        joined = np.concatenate([self.past, x])
        self.past = joined[-(cfg.recent - 1 + cfg.history) :]
        end = np.arange(len(joined) - len(x), len(joined)) + 1
        mid = np.maximum(end - cfg.recent, 0)
        start = np.maximum(mid - cfg.history, 0)
        s1, s2 = _sums(joined - joined[0])
        recent = (s1[end] - s1[mid]) / (end - mid)
        n = np.maximum(mid - start, 1)
        mean = (s1[mid] - s1[start]) / n
        var = np.maximum((s2[mid] - s2[start]) / n - mean * mean, 0.0)
        floor = REL_SD_FLOOR * (np.abs(mean + joined[0]) + 1e-6)
        z = np.abs(recent - mean) / np.sqrt(var + floor * floor)
        out: F = np.where(mid - start >= cfg.min_history, z, 0.0)
        return out


def _sums(c: F) -> tuple[F, F]:
    """Running sums of c and c² with a leading 0 (c centred: no cancellation in the squares)."""
    s1 = np.concatenate([[0.0], np.cumsum(c)])
    s2 = np.concatenate([[0.0], np.cumsum(c * c)])
    return s1, s2


@dataclass(slots=True)
class ShiftScorer:
    """Streaming state: level and roughness windows, the last reading, the range so far."""

    config: ShiftConfig = field(default_factory=ShiftConfig)
    level: LevelShift = field(init=False)
    rough: LevelShift = field(init=False)
    last: float = math.nan
    low: float = math.inf
    high: float = -math.inf

    def __post_init__(self) -> None:
        self.level, self.rough = LevelShift(self.config), LevelShift(self.config)

    def update(self, values: NDArray[np.floating]) -> ShiftVerdict:
        """Score a batch in time order (non-finite readings are skipped); batch-exact."""
        x = np.asarray(values, dtype=np.float64)
        nan = np.full(len(x), np.nan)
        out = ShiftVerdict(np.zeros(len(x)), nan, nan.copy(), np.zeros(len(x), bool))
        ok = np.flatnonzero(np.isfinite(x))
        if len(ok):
            z, rough, brk = self._judge(x[ok])
            out.z[ok], out.rough_z[ok], out.breakout[ok] = z, rough, brk
            out.score[ok] = np.where(brk, 1.0, z_to_score(np.maximum(z, rough)))
        return out

    def _judge(self, x: F) -> tuple[F, F, B]:
        # The very first reading has no difference yet: count it as 0.
        diffs = np.nan_to_num(np.abs(np.diff(np.concatenate([[self.last], x]))))
        self.last = float(x[-1])
        return self.level.update(x), self.rough.update(diffs), self._breakout(x)

    def _breakout(self, x: F) -> B:
        """Readings outside [low, high] of the readings before them, by the margin."""
        hi = np.maximum.accumulate(np.concatenate([[self.high], x]))[:-1]
        lo = np.minimum.accumulate(np.concatenate([[self.low], x]))[:-1]
        self.high, self.low = max(self.high, float(x.max())), min(self.low, float(x.min()))
        with np.errstate(invalid="ignore"):  # inf - inf before the first reading
            margin = self.config.breakout_margin * (hi - lo)
            out: B = (hi > lo) & ((x > hi + margin) | (x < lo - margin))
        return out


@dataclass(slots=True)
class ShiftAlarms:
    """Scorer + warm-up + threshold + refractory: scores and alarms for one series."""

    warmup: int = 0
    threshold: float = float(z_to_score(ALARM_Z))
    scorer: ShiftScorer = field(default_factory=ShiftScorer)
    refractory: Refractory = field(default_factory=lambda: Refractory(REFRACTORY))
    seen: int = 0

    def update(self, values: NDArray[np.floating]) -> tuple[F, B]:
        """(score, alarm) per reading; the first `warmup` readings only teach (score 0)."""
        score = self.scorer.update(values).score
        learning = np.arange(self.seen, self.seen + len(score)) < self.warmup
        score[learning] = 0.0
        self.seen += len(score)
        return score, self.refractory.update(score >= self.threshold)
