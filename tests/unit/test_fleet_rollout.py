"""The campaign rollout gate and package signatures, without a database."""

from __future__ import annotations

import pytest

from fleet import signing
from fleet.rollout import Action, Plan, Progress, decide

PLAN = Plan(canary=2, waves=(50, 100), success_pct=90, abort_failure_pct=30, min_finished=3,
            rate_per_min=5)  # fmt: skip


def _p(**kw: int) -> Progress:
    base = {
        "stage": 0, "stage_assigned": 2, "stage_started": 0, "stage_succeeded": 0,
        "stage_failed": 0, "finished": 0, "failed": 0, "started_last_minute": 0, "last_stage": 2,
    }  # fmt: skip
    return Progress(**(base | kw))


def test_stage_sizes_cover_the_target() -> None:
    assert PLAN.stage_sizes(20) == [2, 8, 10]
    assert PLAN.stage_sizes(1) == [1, 0, 0]
    assert sum(PLAN.stage_sizes(7)) == 7


def test_canary_starts_within_rate_limit_then_waits() -> None:
    assert decide(PLAN, _p()) == decide(PLAN, _p()) and decide(PLAN, _p()).start == 2
    wave = _p(stage=1, stage_assigned=8, finished=2, started_last_minute=3)
    assert (decide(PLAN, wave).action, decide(PLAN, wave).start) == (Action.START, 2)
    busy = _p(stage=1, stage_assigned=8, stage_started=2, finished=2, started_last_minute=5)
    assert decide(PLAN, busy).start == 0


def test_gate_advances_holds_and_finishes() -> None:
    passed = _p(stage_started=2, stage_succeeded=2, finished=2)
    assert decide(PLAN, passed).action is Action.ADVANCE
    # One of two canaries failed: 50% < 90%, but only 2 finished (< min 3): hold, no abort.
    held = decide(PLAN, _p(stage_started=2, stage_succeeded=1, stage_failed=1, finished=2,
                           failed=1))  # fmt: skip
    assert held.action is Action.HOLD and "50%" in held.reason
    last = _p(stage=2, stage_assigned=10, stage_started=10, stage_succeeded=10, finished=20)
    assert decide(PLAN, last).action is Action.DONE


def test_abort_only_after_minimum_finished() -> None:
    wave = {"stage": 1, "stage_assigned": 8, "stage_started": 4}
    assert decide(PLAN, _p(**wave, finished=2, failed=2)).action is Action.START
    abort = decide(PLAN, _p(**wave, finished=4, failed=2))
    assert abort.action is Action.ABORT and "2 of 4" in abort.reason
    assert decide(PLAN, _p(**wave, finished=10, failed=2)).action is Action.START


@pytest.mark.parametrize("waves", [(), (50,), (60, 50, 100), (0, 100)])
def test_plan_refuses_bad_waves(waves: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="waves"):
        Plan(canary=1, waves=waves, success_pct=90, abort_failure_pct=20, min_finished=1,
             rate_per_min=1)  # fmt: skip


def test_signature_and_hash_checks() -> None:
    key, other = signing.new_key(), signing.new_key()
    content = b"firmware image" * 100
    digest = signing.sha256_hex(content)
    sig = signing.sign(key, digest)
    public = signing.load_public(signing.public_pem(key))
    assert signing.verify(public, content, digest, sig) is None
    assert signing.verify(public, content[:-1] + b"X", digest, sig) == "hash mismatch"
    forged = signing.sign(other, digest)
    assert signing.verify(public, content, digest, forged) == "bad signature"
    assert signing.verify(public, content, digest, "not base64!") == "bad signature"


def test_maintenance_window_in_the_tenants_zone() -> None:
    from datetime import UTC, datetime, time

    from fleet.rollout import in_window

    at = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)  # 02:30 in Shanghai, 19:30 in Berlin
    night = (time(1, 0), time(5, 0))
    assert in_window(at, "Asia/Shanghai", *night)
    assert not in_window(at, "Europe/Berlin", *night)
    wrap = (time(22, 0), time(4, 0))
    assert in_window(at, "Asia/Shanghai", *wrap) and not in_window(at, "Europe/Berlin", *wrap)
    assert in_window(at, "Europe/Berlin", None, None)
    assert not in_window(at, "Asia/Shanghai", time(2, 30), time(2, 30))


def test_download_tokens_and_ranges() -> None:
    from datetime import UTC, datetime, timedelta

    from fleet import tokens

    now = datetime(2026, 12, 1, tzinfo=UTC)
    token = tokens.make(b"k", "pump-1", "c1", now + timedelta(minutes=5))
    assert tokens.check(b"k", token, now) == ("pump-1", "c1")
    forged = tokens.make(b"other", "pump-1", "c1", now + timedelta(days=1))
    bad_cases = [(token, now + timedelta(minutes=5)), (token[:-2] + "xx", now),
                 ("garbage", now), (forged, now)]  # fmt: skip
    for bad, when in bad_cases:
        with pytest.raises(ValueError):
            tokens.check(b"k", bad, when)
    assert tokens.parse_range(None, 10) is None
    assert tokens.parse_range("bytes=2-4", 10) == (2, 4)
    assert tokens.parse_range("bytes=7-", 10) == (7, 9)
    assert tokens.parse_range("bytes=-3", 10) == (7, 9)
    assert tokens.parse_range("bytes=5-99", 10) == (5, 9)
    for bad_range in ["bytes=10-", "bytes=4-2", "items=1-2", "bytes=1-2,4-5", "bytes=a-b"]:
        with pytest.raises(ValueError):
            tokens.parse_range(bad_range, 10)
