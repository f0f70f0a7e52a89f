"""Alert sentences for people: no detector jargon (it stays in the evidence), natural
durations, never 'for 0 s'."""

from __future__ import annotations

import pytest

from analytics.detectors.tracker import Signal
from analytics.monitor.describe import duration, sentence


def _sig(start: float, last: float) -> Signal:
    return Signal(episodes=1, first_ts=start, last_ts=last, severity=1, peak_index=0,
                  cleared_at=None, active=True, episode_start=start)  # fmt: skip


LIMITS = {"spike_z": 9.0, "cusum_h": 221.0, "stuck_run": 30, "noise_ratio": 4.0, "level": 71.26}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "1 s"), (0.4, "1 s"), (45, "45 s"), (89, "89 s"), (180, "3 min"), (5400, "1.5 h"),
     (7200, "2 h"), (3 * 86400, "3 d")],
)  # fmt: skip
def test_durations_read_naturally(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_drift_names_the_usual_level_without_cusum() -> None:
    ev = {"value": 62.6, "cusum": 223.0, "limits": LIMITS}
    text = sentence("drift", "humidity_pct", "%", _sig(100, 100), ev)
    assert text == "humidity_pct 62.6 % drifted away from its usual level 71.26 %"
    assert "CUSUM" not in text and "for 0 s" not in text


def test_spike_says_how_far_in_words_and_how_long() -> None:
    ev = {"value": 92.4, "z": 61.2, "baseline": 60.1, "limits": LIMITS}
    text = sentence("spike", "bearing_temp_c", "°C", _sig(0, 180), ev)
    assert text == "bearing_temp_c 92.4 °C, far above its recent median 60.1 °C for 3 min"
    low = sentence("spike", "bearing_temp_c", "°C", _sig(0, 30), ev | {"z": -9.5})
    assert low == "bearing_temp_c 92.4 °C, well below its recent median 60.1 °C for 30 s"


def test_an_instant_episode_has_no_duration() -> None:
    ev = {"value": 97.0, "threshold": 85.0}
    assert sentence("threshold", "t", "°C", _sig(5, 5), ev) == "t 97 °C beyond its limit 85 °C"
    assert sentence("threshold", "t", "°C", _sig(5, 6), ev).endswith(" for 1 s")
