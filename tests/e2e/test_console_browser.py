"""The console in a real browser (Chromium via Playwright): log in, watch an alert raised
from an MQTT reading appear in the live list, acknowledge it, open a device chart, download
an invoice PDF, tenant isolation, CSRF, logout and session expiry. Screenshots of every page
land in tests/e2e/screenshots/ for review."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics.monitor.detect import run_detector
from registry import service as registry
from registry.models import Device
from servitize.db import Pool
from tests.e2e.console_browser import ARGS, chromium, shot
from tests.integration.console_support import PASSWORD, console_server, seed_console
from tests.integration.ingest_support import publish, running_ingest
from tests.integration.test_api_isolation import seed_billing
from tests.integration.test_api_support import add_readings, client

pw = pytest.importorskip("playwright.async_api")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    path = chromium()
    async with pw.async_playwright() as p:
        b = await p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        yield b
        await b.close()


@pytest.fixture
async def world(pool: Pool) -> AsyncIterator[dict[str, Any]]:
    w = await seed_console(pool)
    await registry.register_devices(pool, [Device("pump-0", "pump-motor", "acme", "acme-site")])
    start = datetime.now(UTC) - timedelta(hours=20)
    temps = [40 + (i % 12) * 0.5 for i in range(120)]
    await add_readings(pool, "acme-r1", "motor_temp_c", start, temps, step_s=600)
    async with client(pool) as c:
        invoices = await seed_billing(c, w)
    async with console_server(pool, console_session_idle_s=4) as url:
        yield {"url": url, "invoices": invoices}


async def _login(browser: Any, url: str, user: str) -> Any:
    page = await (await browser.new_context(accept_downloads=True)).new_page()
    await page.goto(f"{url}/console/")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/alerts")
    return page


def _hot_readings() -> list[dict[str, Any]]:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    return [
        {"ts": (base + timedelta(seconds=10 * i)).isoformat(),
         "metrics": {"bearing_temp_c": 60.0 if i < 20 else 97.0}}
        for i in range(40)
    ]  # fmt: skip


async def test_operator_sees_an_mqtt_alert_live_and_acknowledges_it(
    browser: Any, world: dict[str, Any], pool: Pool, broker_url: str
) -> None:
    url = world["url"]
    page = await _login(browser, url, "op.acme")
    await page.wait_for_selector("#live.on")
    await page.screenshot(path=shot("alerts-before"), full_page=True)
    stop = asyncio.Event()
    detector = asyncio.create_task(run_detector(pool, stop))
    try:
        async with running_ingest(pool, broker_url):
            await asyncio.sleep(0.5)
            await publish(broker_url, [("devices/pump-0/telemetry", {"readings": _hot_readings()})])
            row = page.locator("#alert-rows tr", has_text="pump-0")
            await row.first.wait_for(timeout=30_000)
            seen = time.time()
    finally:
        stop.set()
        await asyncio.wait_for(detector, 10)
    opened = await pool.fetchval("SELECT min(opened_at) FROM alerts WHERE device_id = 'pump-0'")
    # The row appears without a reload, within 2 s of the alert's commit.
    assert seen - opened.timestamp() < 2.0, seen - opened.timestamp()
    await page.screenshot(path=shot("alerts-live"), full_page=True)
    await row.first.locator("a").first.click()
    await page.wait_for_selector("#alert-chart canvas")
    await page.screenshot(path=shot("alert"), full_page=True)
    await page.click("#ack")
    await page.wait_for_selector("#audit >> text=user:op.acme")
    assert "acknowledged" in await page.inner_text("#audit")
    await page.goto(f"{url}/console/fleet")
    await page.screenshot(path=shot("fleet"), full_page=True)
    assert await page.locator(".tile", has_text="pump-0").count() == 1


async def test_device_chart_invoice_pdf_and_tenant_isolation(
    browser: Any, world: dict[str, Any]
) -> None:
    url = world["url"]
    page = await _login(browser, url, "op.acme")
    await page.goto(f"{url}/console/devices/acme-r1")
    await page.wait_for_selector(".device-chart[data-metric=motor_temp_c] canvas")
    await page.click("button[data-range='30d']")
    await page.wait_for_selector(
        ".device-chart[data-metric=motor_temp_c][data-loaded='30d'] canvas"
    )
    await page.screenshot(path=shot("device"), full_page=True)
    other = await page.goto(f"{url}/console/devices/globex-r1")
    assert other is not None and other.status == 404
    await page.screenshot(path=shot("not-found"), full_page=True)
    fin = await _login(browser, url, "fin.acme")
    await fin.goto(f"{url}/console/finance")
    await fin.screenshot(path=shot("finance"), full_page=True)
    async with fin.expect_download() as info:
        await fin.click(f"a[href='/console/finance/invoices/{world['invoices']['acme']}.pdf']")
    download = await info.value
    assert (await download.path()).read_bytes().startswith(b"%PDF")
    theirs = await fin.goto(f"{url}/console/finance/invoices/{world['invoices']['globex']}.pdf")
    assert theirs is not None and theirs.status == 404


async def test_csrf_logout_and_expiry_in_the_browser(browser: Any, world: dict[str, Any]) -> None:
    url = world["url"]
    page = await _login(browser, url, "root")
    await page.goto(f"{url}/console/users")
    await page.screenshot(path=shot("users"), full_page=True)
    forged = await page.evaluate(
        """async () => (await fetch('/console/logout', {method: 'POST',
               body: new URLSearchParams({csrf: 'forged'})})).status"""
    )
    assert forged == 403
    await page.click("#logout")
    await page.wait_for_url("**/console/login")
    await page.screenshot(path=shot("login"), full_page=True)
    await page.goto(f"{url}/console/alerts")
    assert "/console/login" in page.url
    page = await _login(browser, url, "root")
    await asyncio.sleep(4.5)  # the world's idle limit is 4 s
    await page.goto(f"{url}/console/fleet")
    assert "/console/login" in page.url
