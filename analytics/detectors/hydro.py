"""A slope's creep rate against its pore pressure: which movement the groundwater explains.

A wet slope creeps faster as pore pressure rises and slows as it drains, and at a given pore
pressure it creeps at much the same rate each time (displacement rate as a function of the
groundwater level: Corominas et al. 2005, Vallcebre landslide). A rate above what the slope
showed at the same or a higher pore pressure, earlier in the same wet spell or in the last 30
days, is movement the water does not explain: the signature of a slide accelerating on its
own. The slope warning keeps its yellow and lower levels for such movement.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
HOUR_S = 3600.0
# Rates over three hourly means: an hourly mean halves a GNSS fix's scatter eightfold, and
# three hours let a slide's rate grow by a half or more (it grows fifty-fold in 6-24 h).
RATE_HOURS = 3
# Earlier hours of the same wet spell a rate is compared with (the last RATE_HOURS excluded:
# they overlap the rate itself).
LOOKBACK_HOURS = 12
# A rate counts as unexplained above 1.25 x the fastest seen at that pore pressure, plus the
# sensor's noise floor, for two hours in a row (one noisy hour is not a slide).
FACTOR = 1.25
PERSIST_HOURS = 2
# Pore pressures within 1 kPa count as the same (a piezometer's hourly mean is steady to
# about 0.1 kPa; soil does not tell 1 kPa apart).
SAME_KPA = 1.0
MEMORY_HOURS = 30 * 24


@dataclass(frozen=True, slots=True)
class Hour:
    """One completed hour: its index, mean displacement, mean pore pressure and rate."""

    index: int
    disp: float
    pore: float
    rate: float
    # judged faster than the pore pressure explains
    odd: bool = False


@dataclass(slots=True)
class PoreResponse:
    """Streaming judge of whether a slope's movement is explained by its pore pressure."""

    # the sensor's noise in rate units (mm/day): smaller rate differences mean nothing
    floor: float
    hour: int | None = None
    disp_sum: float = 0.0
    disp_n: int = 0
    pore_hours: dict[int, float] = field(default_factory=dict)
    recent: deque[Hour] = field(default_factory=lambda: deque(maxlen=LOOKBACK_HOURS + 1))
    # (pore pressure, |rate|) of past hours no slide was suspected near
    memory: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=MEMORY_HOURS))
    run: int = 0
    unexplained: bool = True
    # the slope warning's level at the latest reading
    level: int = 0
    # the last hour judged unexplained to leave the recent window (neighbours are not learnt)
    last_odd: int = -(10**9)

    def set_driver(self, ts: F, pore: F) -> None:
        """Pore-pressure readings (kept as hourly means until their hour is judged)."""
        ok = np.isfinite(pore)
        hours = (np.asarray(ts, float)[ok] // HOUR_S).astype(np.int64)
        for h in np.unique(hours).tolist():
            self.pore_hours[h] = float(np.mean(pore[ok][hours == h]))
        # pore hours only need to outlive the displacement hour they go with
        for h in [h for h in self.pore_hours if self.hour is not None and h < self.hour - 1]:
            del self.pore_hours[h]

    def update(self, ts: F, disp: F, level: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Per reading: whether the movement is unexplained (decided at each hour's end)."""
        out = np.empty(len(ts), dtype=bool)
        hours = (np.asarray(ts, float) // HOUR_S).astype(np.int64)
        rows = zip(hours.tolist(), disp.tolist(), level.tolist(), strict=True)
        for i, (h, x, lv) in enumerate(rows):
            if self.hour is not None and h != self.hour:
                self._close()
            if self.hour != h:
                self.hour, self.disp_sum, self.disp_n = h, 0.0, 0
            self.disp_sum, self.disp_n = self.disp_sum + x, self.disp_n + 1
            self.level = int(lv)
            out[i] = self.unexplained
        return out

    def _close(self) -> None:
        """Judge the hour that just ended, then remember it."""
        assert self.hour is not None and self.disp_n
        pore = self.pore_hours.get(self.hour)
        if pore is None:  # no piezometer reading this hour: nothing explains the movement
            self.recent.clear()
            self.run, self.unexplained = 0, True
            return
        now = Hour(self.hour, self.disp_sum / self.disp_n, pore, self._rate())
        # judged only while the warning's own level is raised (its last reading in the hour)
        odd = self.level > 0 and self._unexplained(now)
        self.run = self.run + 1 if odd else 0
        self.unexplained = self.run >= PERSIST_HOURS
        if len(self.recent) == self.recent.maxlen:
            self._learn(self.recent.popleft())
        self.recent.append(replace(now, odd=odd))

    def _learn(self, old: Hour) -> None:
        """Remember an hour leaving the recent window, unless a slide was suspected near it.

        Learning waits until then so a slide's own early, slower hours are not learnt as what
        the slope does at that pore pressure before the slide shows.
        """
        if old.odd:
            self.last_odd = old.index
            return
        quiet = old.index - self.last_odd > LOOKBACK_HOURS and not any(r.odd for r in self.recent)
        if quiet and np.isfinite(old.rate):
            self.memory.append((old.pore, abs(old.rate)))

    def _rate(self) -> float:
        """Rate (per day) from the hourly mean RATE_HOURS ago to this hour's mean."""
        assert self.hour is not None
        past = [r for r in self.recent if r.index == self.hour - RATE_HOURS]
        if not past:
            return float("nan")
        return (self.disp_sum / self.disp_n - past[0].disp) / RATE_HOURS * 24.0

    def _unexplained(self, now: Hour) -> bool:
        """Faster than the fastest rate seen at this or a higher pore pressure."""
        if not np.isfinite(now.rate):
            return False
        near = now.pore - SAME_KPA
        seen = [v for p, v in self.memory if p >= near]
        seen += [
            abs(r.rate)
            for r in self.recent
            if r.index <= now.index - RATE_HOURS and r.pore >= near and np.isfinite(r.rate)
        ]
        return bool(seen) and abs(now.rate) > FACTOR * max(seen) + self.floor
