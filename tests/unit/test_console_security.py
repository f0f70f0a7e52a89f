"""Pure cores of the console's security: Argon2id hashing, tokens, the login throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console import i18n, security
from console.models import ThrottlePolicy, User, check_password, check_username

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(throttle_after=3, lock_after=5, lock_s=900, max_wait_s=30)


def test_hash_is_argon2id_salted_and_verifies_only_the_password() -> None:
    a, b = security.hash_password("correct horse"), security.hash_password("correct horse")
    assert a.startswith("$argon2id$") and a != b
    assert security.verify_password(a, "correct horse")
    assert not security.verify_password(a, "correct horsf")
    assert not security.verify_password("not a hash", "correct horse")
    assert not security.verify_password(None, "not a password of anyone")
    assert not security.needs_rehash(a)


def test_tokens_are_random_and_compared_strictly() -> None:
    t = security.new_token()
    assert len(t) >= 43 and t != security.new_token()
    assert security.token_hash(t) == security.token_hash(t) != security.token_hash(t + "x")
    assert security.same_token(t, t)
    assert not security.same_token(t, t[:-1])
    assert not security.same_token(t, "")
    assert not security.same_token(None, None)


def test_throttle_waits_double_after_the_threshold_and_cap() -> None:
    assert [security.wait_s(n, POLICY) for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 16]
    assert security.wait_s(40, POLICY) == 30


def test_lock_comes_at_lock_after_failures() -> None:
    assert security.after_failure(4, NOW, POLICY) is None
    assert security.after_failure(5, NOW, POLICY) == NOW + timedelta(seconds=900)


def test_refusal_counts_down_and_ends_with_the_lock() -> None:
    locked = NOW + timedelta(seconds=900)
    assert security.refusal(5, NOW, locked, NOW, POLICY) == 901
    assert security.refusal(5, NOW, locked, locked + timedelta(seconds=1), POLICY) == 0
    assert security.refusal(3, NOW, None, NOW, POLICY) == 1
    assert security.refusal(3, NOW, None, NOW + timedelta(seconds=1), POLICY) == 0
    assert security.refusal(2, NOW, None, NOW, POLICY) == 0
    assert security.refusal(0, None, None, NOW, POLICY) == 0


def test_policy_and_names_validate_themselves() -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(throttle_after=6, lock_after=5)
    with pytest.raises(ValueError):
        check_username("Bad Name")
    with pytest.raises(ValueError):
        check_password("short")
    assert check_username("li.wei@acme") == "li.wei@acme"


def test_user_has_the_api_keys_role_and_scope() -> None:
    u = User(id=1, username="op", display_name="", role="operator", tenant_id="acme")
    assert u.principal.role == "operator" and u.principal.scope("globex") == "acme"
    assert u.may("operator") and not u.may("finance") and u.actor == "user:op"
    assert User(id=2, username="root", display_name="", role="admin", tenant_id=None).may("x")
    with pytest.raises(ValueError):
        User(id=3, username="x1", display_name="", role="owner", tenant_id=None)


def test_words_default_to_chinese_and_times_to_the_zone() -> None:
    assert i18n.word("alerts", "fr") == "告警" and i18n.word("alerts", "en") == "Alerts"
    assert i18n.word("locked", "en", s=5) == "Account locked; try again in 5 s"
    assert i18n.local(NOW, "Asia/Shanghai") == "2026-12-01 16:00:00"
    assert i18n.local(None, "UTC") == ""


def test_headlines_name_device_site_and_the_catalogs_metric() -> None:
    from console.wording import Names, headline

    names = Names(
        devices={"acme-r1": ("Robot 1", "north", "substation-robot")},
        sites={"north": "North yard"},
        metrics={("substation-robot", "motor_temp_c"): "drive motor winding temperature"},
    )
    a = {"device_id": "acme-r1", "site_id": "north", "metric": "motor_temp_c",
         "sentence": "motor_temp_c 97 °C beyond its limit 85 °C for 3 min"}  # fmt: skip
    assert headline(a, names) == (
        "Robot 1 (acme-r1) at North yard: drive motor winding temperature 97 °C beyond its"
        " limit 85 °C for 3 min"
    )
    bare = {"device_id": "x-1", "site_id": None, "metric": None, "sentence": "silent for 5 min"}
    assert headline(bare, names) == "x-1: silent for 5 min"
    assert headline(a | {"metric": "speed_mps"}, Names()) == f"acme-r1 at north: {a['sentence']}"


def test_site_plot_keeps_points_and_labels_inside() -> None:
    from console.pages import site_plot

    near = [
        {"id": f"s{i}", "name": f"S{i}", "latitude": 30 + i * 1e-4, "longitude": 120.0}
        for i in range(3)
    ]
    sites: list[dict[str, Any]] = [
        *near,
        {"id": "far", "name": "Far", "latitude": 31, "longitude": 121},
        {"id": "none", "name": "N", "latitude": None, "longitude": None},
    ]
    pts = {p["id"]: p for p in site_plot(sites, 600, 300)}
    assert set(pts) == {"s0", "s1", "s2", "far"}
    assert all(30 <= p["x"] <= 570 and 30 <= p["y"] <= 270 for p in pts.values())
    assert pts["far"]["anchor"] == "end" and pts["s0"]["anchor"] == "start"
    assert len({p["y"] + p["dy"] for p in pts.values()}) == 4  # no two labels on one line
