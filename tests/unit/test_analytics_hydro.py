"""The slope's pore-pressure response: rain-fed creep is explained, a slide is not."""

from __future__ import annotations

import numpy as np

from analytics.detectors.hydro import PoreResponse
from analytics.detectors.rules import SlopeRule

DAY = 86400.0
STEP = 60.0


def _wet_spell(days: float = 12.0, slide_at: float | None = None) -> tuple[np.ndarray, ...]:
    """Minute readings: a storm on day 8 raises pore pressure, creep follows it.

    With slide_at (days), a slide starts then at a steady pore pressure and speeds up
    fifty-fold over 12 hours, to 100 mm/day, on top of the creep; then it stops.
    """
    t = np.arange(0.0, days * DAY, STEP)
    d = t / DAY
    storm = np.clip(d - 8.0, 0.0, 0.25) / 0.25  # pore rises over 6 hours ...
    drain = np.exp(-np.clip(d - 8.25, 0.0, None) / 3.0)  # ... then drains for days
    pore = 40.0 + 35.0 * storm * drain
    rate = 0.2 + 0.02 * np.maximum(pore - 50.0, 0.0) ** 1.5  # mm/day
    if slide_at is not None:
        x = np.clip((d - slide_at) / 0.5, 0.0, 1.0)
        sliding = (d >= slide_at) & (d < slide_at + 0.5)
        rate = rate + np.where(sliding, 100.0 * 0.02 ** (1.0 - x), 0.0)
    disp = np.cumsum(rate * STEP / DAY)
    return t, pore, disp


def _levels(t: np.ndarray, pore: np.ndarray, disp: np.ndarray, driver: bool) -> np.ndarray:
    """The slope warning's level per reading, fed in one-hour batches."""
    rule = SlopeRule("slope", "gnss_disp_mm", 2.0, reference="pore" if driver else None)
    out = []
    for a in range(0, len(t), 60):
        b = a + 60
        if driver:
            rule.set_reference(t[a:b], pore[a:b])
        cond = rule.evaluate(t[a:b], disp[a:b])
        out.append(np.where(cond.firing, cond.severity + 1, 0))
    return np.concatenate(out)


def test_creep_that_follows_pore_pressure_is_not_warned() -> None:
    t, pore, disp = _wet_spell()
    assert _levels(t, pore, disp, driver=False).max() >= 2  # the angle alone would warn
    assert _levels(t, pore, disp, driver=True).max() == 0


def test_a_slide_at_steady_pore_pressure_is_warned() -> None:
    t, pore, disp = _wet_spell(slide_at=9.5)
    levels = _levels(t, pore, disp, driver=True)
    warned = t[levels >= 2] / DAY
    assert len(warned)
    assert 9.5 < warned[0] < 10.0  # within the slide's 12 hours


def test_without_pore_readings_every_level_stands() -> None:
    t, _, disp = _wet_spell()
    response = PoreResponse(floor=2.0)
    flags = response.update(t, disp, np.full(len(t), 2, dtype=np.int64))
    assert flags.all()


def test_a_slides_own_hours_are_not_learnt() -> None:
    t, pore, disp = _wet_spell(slide_at=9.5)
    response = PoreResponse(floor=2.0)
    for a in range(0, len(t), 60):
        b = a + 60
        response.set_driver(t[a:b], pore[a:b])
        response.update(t[a:b], disp[a:b], np.full(b - a, 2, dtype=np.int64))
    learnt = max(rate for _, rate in response.memory)
    # the creep peaks near 3.3 mm/day; the slide reaches 100 mm/day
    assert learnt < 10.0
