"""Accelerated and offline modes against a real broker and database."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from registry import service as registry
from servitize.cli import main
from servitize.db import Pool
from servitize.infra import free_port
from simulators.accelerated import run_accelerated
from simulators.faults import DEMO, NONE, FaultPlanner
from simulators.fleet import Fleet, fleet
from simulators.generate import Span
from simulators.labels import RunInfo, read_labels
from simulators.offline import read_device_csv, run_offline
from simulators.publisher import PublishError, publish_fleet
from simulators.service import register_fleet
from tests.integration.test_sim_support import capture

DAY_MS = 86_400_000
START_MS = 1_780_272_000_000  # 2026-06-01T00:00:00Z


def _info(span: Span, mode: str) -> RunInfo:
    return RunInfo(span.fleet.name, 1, mode, span.planner.profile.name, span.start_ms, span.end_ms)


def _only(type_id: str, seed: int) -> Fleet:
    small = fleet("small", seed)
    return Fleet(
        "one", small.tenants, small.sites, tuple(d for d in small.devices if d.type_id == type_id)
    )


async def test_accelerated_month_covers_every_day(broker_url: str) -> None:
    one = _only("slope-monitor", seed=31)
    span = Span(one, START_MS, START_MS + 30 * DAY_MS, FaultPlanner(NONE, START_MS))
    device = one.devices[0].id
    async with capture(broker_url, f"devices/{device}/telemetry") as cap:
        result = await run_accelerated(
            span, broker_url, None, _info(span, "accelerated"), progress=False
        )
        await cap.until(lambda: len(cap.readings(device)) >= result.readings)
    per_day: dict[str, int] = defaultdict(int)
    for r in cap.readings(device):
        per_day[datetime.fromtimestamp(r["ts"] / 1000, UTC).date().isoformat()] += 1
    assert len(per_day) == 30
    assert set(per_day.values()) == {1440}  # one reading a minute, every day
    assert result.publish.messages < result.readings / 500  # batched, not one message per reading


async def test_offline_files_match_what_the_broker_got(broker_url: str, tmp_path: Path) -> None:
    small = fleet("small", seed=5)
    end = START_MS + DAY_MS // 2
    # The demo profile puts several faults into half a day, so they are compared too.
    live = Span(small, START_MS, end, FaultPlanner(DEMO, START_MS))
    async with capture(broker_url, "devices/#") as cap:
        acc = await run_accelerated(
            live, broker_url, tmp_path / "acc.json", _info(live, "a"), progress=False
        )
        await cap.until(lambda: sum(len(cap.readings(d.id)) for d in small.devices) >= acc.readings)
    files = Span(small, START_MS, end, FaultPlanner(DEMO, START_MS))
    off = run_offline(
        files, tmp_path / "out", tmp_path / "off.json", _info(files, "o"), progress=False
    )
    assert off.readings == acc.readings and off.events == acc.events
    for d in small.devices:
        sent = [(r["ts"], r["metrics"]) for r in cap.readings(d.id)]
        assert sent == read_device_csv(tmp_path / "out" / f"{d.id}.csv"), d.id
    labels = read_labels(tmp_path / "off.json")
    assert labels and labels == read_labels(tmp_path / "acc.json")
    events_sent = sorted(json.loads(p)["ts"] for t, p, _ in cap.messages if t.endswith("/events"))
    events_file = (tmp_path / "out" / "events.csv").read_text().splitlines()[1:]
    assert len(events_sent) == len(events_file) == off.events


async def test_register_fleet_makes_devices_known_to_ingest(pool: Pool) -> None:
    demo = fleet("demo")
    passwords = await register_fleet(pool, demo)
    assert set(passwords) == {d.id for d in demo.devices}
    async with pool.acquire() as conn:
        snap = await registry.snapshot(conn)
    for d in demo.devices:
        info = snap.devices[d.id]
        assert info.tenant_id == d.tenant_id and info.device_type.id == d.type_id
    await register_fleet(pool, demo)  # running twice is harmless


def test_cli_offline_run_writes_files_and_labels(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    argv = [
        "simulate", "--mode", "offline", "--fleet", "small", "--days", "0.25", "--faults", "demo",
        "--start", "2026-06-01T00:00:00", "--out", str(out), "--quiet", "--no-register",
    ]  # fmt: skip
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{d.id}.csv" for d in fleet("small").devices]
        + ["devices.csv", "events.csv", "labels.json"]
    )
    body = json.loads((out / "labels.json").read_text())
    assert body["start"].startswith("2026-06-01T00:00:00") and body["fault_profile"] == "demo"


def test_cli_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--mode", "offline", "--fleet", "nowhere", "--quiet"]) == 2
    assert main(["simulate", "--mode", "offline", "--faults", "often", "--quiet"]) == 2
    assert main(["simulate", "--mode", "realtime", "--speedup", "0", "--quiet"]) == 2
    assert main(["simulate", "--mode", "offline", "--start", "last tuesday", "--quiet"]) == 1
    nobody = f"mqtt://127.0.0.1:{free_port()}"
    argv = ["simulate", "--fleet", "small", "--days", "0.05", "--quiet", "--no-register"]
    assert main([*argv, "--mqtt-url", nobody]) == 1
    err = capsys.readouterr().err
    assert "unknown fleet" in err and "unknown fault profile" in err and "--speedup" in err
    assert "Invalid isoformat" in err and "Connection refused" in err


async def test_publish_to_a_missing_broker_is_a_clear_error() -> None:
    with pytest.raises(PublishError, match="MQTT broker"):
        await publish_fleet(f"mqtt://127.0.0.1:{free_port()}", [])
