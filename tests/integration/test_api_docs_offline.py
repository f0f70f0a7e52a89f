"""/docs and /redoc load every script and style sheet from the server itself (no CDN)."""

from __future__ import annotations

import re

import httpx
import pytest

from servitize.settings import Settings
from tests.integration.test_api_support import live_server


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_need_nothing_from_the_internet(db_url: str, page: str) -> None:
    with live_server(Settings(database_url=db_url, mqtt_url=None)) as base:
        html = httpx.get(base + page, timeout=10)
        assert html.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+\.(?:js|css))["']""", html.text)
        assert assets, html.text
        for url in assets:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            asset = httpx.get(base + url, timeout=10)
            assert asset.status_code == 200 and len(asset.content) > 50_000, url
        assert "cdn." not in html.text
        spec = httpx.get(base + "/openapi.json", timeout=10)
        assert spec.status_code == 200 and "/api/v1/tenants" in spec.json()["paths"]
