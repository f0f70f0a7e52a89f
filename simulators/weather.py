"""Site weather as a pure function of time: daily temperature cycle, humidity and rain storms.

Everything is keyed by the site seed and the UTC day, so any window can be computed without
generating the days before it, and devices at one site share the same weather.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulators.models import FloatArray

DAY_S = 86_400
# Sites are in China (UTC+8): the afternoon maximum near 14:00 local is 06:00 UTC.
_PEAK_UTC_H = 6.0
# About one storm every three to four days, a third of them heavy, matches a wet-season
# south-China climate closely enough to exercise the rain-driven slope model.
_STORMS_PER_DAY = 0.3
HEAVY_RAIN_MM_H = 20.0


@dataclass(frozen=True, slots=True)
class Storm:
    """A rain event: start (epoch s), duration (s) and peak intensity (mm/h)."""

    start_s: float
    duration_s: float
    peak_mm_h: float

    @property
    def end_s(self) -> float:
        """When the rain stops."""
        return self.start_s + self.duration_s

    @property
    def heavy(self) -> bool:
        """Whether the storm is heavy enough to trigger slope movement."""
        return self.peak_mm_h >= HEAVY_RAIN_MM_H


@lru_cache(maxsize=4096)
def storms_of_day(site_seed: int, day: int) -> tuple[Storm, ...]:
    """The storms starting on one UTC day at one site."""
    rng = np.random.default_rng([site_seed, day, 1])
    n = int(rng.poisson(_STORMS_PER_DAY))
    starts = np.sort(rng.uniform(0, DAY_S, n)) + day * DAY_S
    durations = rng.uniform(1.5, 9.0, n) * 3600
    peaks = rng.lognormal(np.log(8.0), 0.8, n)
    return tuple(
        Storm(float(s), float(d), float(min(p, 80.0)))
        for s, d, p in zip(starts, durations, peaks, strict=True)
    )


@lru_cache(maxsize=4096)
def _day_offset(site_seed: int, day: int) -> tuple[float, float]:
    rng = np.random.default_rng([site_seed, day, 2])
    return float(rng.normal(0.0, 2.5)), float(rng.uniform(3.5, 7.0))


class Weather:
    """Weather at one site."""

    def __init__(self, site_seed: int) -> None:
        rng = np.random.default_rng([site_seed, 0])
        self.seed = site_seed
        self.mean_c = float(rng.uniform(14.0, 20.0))

    def storms(self, start_s: float, end_s: float) -> list[Storm]:
        """Storms overlapping [start_s, end_s)."""
        first, last = int(start_s // DAY_S) - 1, int(end_s // DAY_S)
        found = [s for d in range(first, last + 1) for s in storms_of_day(self.seed, d)]
        return [s for s in found if s.start_s < end_s and s.end_s > start_s]

    def rain_mm_h(self, t: FloatArray) -> FloatArray:
        """Rain intensity (mm/h): a sine-shaped profile per storm."""
        out = np.zeros_like(t)
        if t.size == 0:
            return out
        for s in self.storms(float(t[0]), float(t[-1]) + 1):
            phase = (t - s.start_s) / s.duration_s
            inside = (phase >= 0) & (phase < 1)
            out[inside] += s.peak_mm_h * np.sin(np.pi * phase[inside]) ** 2
        return out

    def temperature_c(self, t: FloatArray, lag_h: float = 0.0, gain: float = 1.0) -> FloatArray:
        """Air temperature (°C); lag_h/gain give a structure's slower, damped response."""
        day = np.floor(t / DAY_S)
        frac = t / DAY_S - day
        offsets = np.array([self._offset(d) for d in range(int(day.min()), int(day.max()) + 2)])
        base = offsets[(day - day.min()).astype(int)]
        nxt = offsets[(day - day.min()).astype(int) + 1]
        synoptic = base[:, 0] + (nxt[:, 0] - base[:, 0]) * frac
        amplitude = base[:, 1]
        hours = (t / 3600.0 - _PEAK_UTC_H - lag_h) % 24
        daily = amplitude * np.cos(2 * np.pi * hours / 24) * gain
        season = 8.0 * np.sin(2 * np.pi * (t / DAY_S / 365.25 - 0.3))
        wet = np.minimum(self.rain_mm_h(t), 10.0) * 0.25
        result: FloatArray = self.mean_c + season + synoptic * gain + daily - wet
        return result

    def humidity_pct(self, t: FloatArray) -> FloatArray:
        """Relative humidity (%): high at night and in rain."""
        hours = (t / 3600.0 - _PEAK_UTC_H) % 24
        rain = np.minimum(self.rain_mm_h(t), 5.0) * 5.0
        return np.clip(65.0 - 18.0 * np.cos(2 * np.pi * hours / 24) + rain, 5.0, 100.0)

    def _offset(self, day: int) -> tuple[float, float]:
        return _day_offset(self.seed, day)
