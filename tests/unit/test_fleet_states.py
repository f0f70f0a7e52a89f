"""The command and update state machines, retry backoff, wire format and the device agent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from fleet.models import Command, Reply
from fleet.states import (
    COMMAND_TRANSITIONS,
    CommandState,
    TransitionError,
    UpdateState,
    check_command,
    check_update,
    retry_delay_s,
)
from fleet.topics import Uplink, UplinkTopic
from fleet.wire import command_payload, expiry_interval_s, parse_reply
from simulators.agent import DeviceAgent

C, U = CommandState, UpdateState
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_command_happy_path_and_terminals() -> None:
    for old, new in [(C.QUEUED, C.SENT), (C.SENT, C.DELIVERED), (C.DELIVERED, C.SUCCEEDED)]:
        assert check_command(old, new) is new
    terminals = {s for s in C if s.terminal}
    assert terminals == {C.SUCCEEDED, C.FAILED, C.REJECTED, C.TIMED_OUT, C.EXPIRED, C.CANCELED}
    for state in terminals:
        assert COMMAND_TRANSITIONS[state] == frozenset()


@pytest.mark.parametrize(
    ("old", "new"),
    [(C.DELIVERED, C.EXPIRED), (C.DELIVERED, C.CANCELED), (C.QUEUED, C.DELIVERED),
     (C.QUEUED, C.SUCCEEDED), (C.SUCCEEDED, C.FAILED), (C.EXPIRED, C.SENT)],
)  # fmt: skip
def test_command_refuses(old: CommandState, new: CommandState) -> None:
    with pytest.raises(TransitionError):
        check_command(old, new)


def test_backoff_doubles_and_caps() -> None:
    assert [retry_delay_s(n, 5, 30) for n in range(1, 6)] == [5, 10, 20, 30, 30]
    with pytest.raises(ValueError, match="1-based"):
        retry_delay_s(0, 5, 30)


def test_update_moves_forward_only_and_updated_needs_reboot() -> None:
    assert check_update(U.QUEUED, U.NOTIFIED) is U.NOTIFIED
    assert check_update(U.DOWNLOADING, U.DOWNLOADING) is U.DOWNLOADING
    assert check_update(U.INSTALLING, U.ROLLED_BACK) is U.ROLLED_BACK
    assert check_update(U.REBOOTING, U.UPDATED) is U.UPDATED
    for old, new in [(U.INSTALLING, U.UPDATED), (U.VERIFIED, U.DOWNLOADING), (U.FAILED, U.QUEUED)]:
        with pytest.raises(TransitionError):
            check_update(old, new)


def _cmd(expires: datetime | None) -> Command:
    return Command(
        id="c1", seq=1, tenant_id="acme", device_id="pump-1", name="ping", params={"a": 1},
        state=C.QUEUED, created_at=NOW, expires_at=expires, timeout_s=60, max_attempts=3,
        attempts=0,
    )  # fmt: skip


def test_wire_command_and_replies() -> None:
    body = json.loads(command_payload(_cmd(NOW + timedelta(seconds=90.7)), NOW))
    assert body["reply_to"] == "devices/pump-1/replies/c1" and body["attempt"] == 1
    assert expiry_interval_s(_cmd(NOW + timedelta(seconds=90.7)), NOW) == 90
    assert expiry_interval_s(_cmd(None), NOW) is None
    assert parse_reply("c1", b'{"kind":"received"}').state is C.DELIVERED
    assert parse_reply("c1", b'{"status":"failed","reason":"x"}').state is C.FAILED
    for bad in [b"[1]", b"{", b'{"command_id":"c2"}', b'{"kind":"result","status":"sent"}']:
        with pytest.raises(ValueError):
            parse_reply("c1", bad)
    with pytest.raises(ValueError):
        Reply("c1", "result", C.DELIVERED)


def test_uplink_topics() -> None:
    assert UplinkTopic.parse("devices/p-1/replies/c9") == UplinkTopic("p-1", Uplink.REPLY, "c9")
    assert UplinkTopic.parse("devices/p-1/twin/reported").kind is Uplink.TWIN_REPORTED
    for bad in ["devices/p-1/replies/a+b", "devices/p-1/telemetry", "x/p-1/status"]:
        with pytest.raises(ValueError):
            UplinkTopic.parse(bad)


def test_agent_is_idempotent_by_command_id_and_skips_stale() -> None:
    agent = DeviceAgent("pump-1")
    message = command_payload(_cmd(None), NOW)
    first = agent.handle("devices/pump-1/commands/c1", message, now=NOW)
    again = agent.handle("devices/pump-1/commands/c1", message, now=NOW)
    assert first == again and agent.executions == 1
    assert [o.topic for o in first] == ["devices/pump-1/replies/c1"] * 2
    stale = command_payload(_cmd(NOW - timedelta(seconds=1)), NOW).replace(b'"c1"', b'"c2"')
    assert agent.handle("devices/pump-1/commands/c2", stale, now=NOW) == []
    assert agent.executions == 1


def test_agent_applies_twin_delta() -> None:
    agent = DeviceAgent("pump-1")
    delta = json.dumps({"version": 3, "delta": {"reporting_interval_s": 30}}).encode()
    [out] = agent.handle("devices/pump-1/twin/delta", delta)
    assert agent.reporting_interval_s == 30.0
    assert json.loads(out.payload)["version"] == 3


def test_twin_merge_delta_and_versions() -> None:
    from fleet.twin import VersionConflict, check_if_match, check_report, delta, merge

    assert merge({"a": 1, "b": 2}, {"b": None, "c": 3}) == {"a": 1, "c": 3}
    assert delta({"a": 1, "c": 3}, {"a": 1, "c": 2}) == {"c": 3}
    check_if_match(4, None)
    check_if_match(4, 4)
    with pytest.raises(VersionConflict):
        check_if_match(4, 3)
    check_report(desired_version=5, reported_version=3, version=5)
    for version in (2, 6):
        with pytest.raises(VersionConflict):
            check_report(desired_version=5, reported_version=3, version=version)
