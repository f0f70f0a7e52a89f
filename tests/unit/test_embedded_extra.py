"""Without the `embedded` extra, the embedded services fail with one line saying what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from servitize.cli import main
from servitize.db import ConfigError
from servitize.infra import INSTALL_EMBEDDED, start_broker, start_embedded_postgres
from servitize.settings import get_settings


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `embedded_postgres` and `amqtt` unimportable, as in an install without the extra."""
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    monkeypatch.setitem(sys.modules, "amqtt", None)


@pytest.mark.usefixtures("without_extra")
def test_embedded_postgres_names_the_extra(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SERVITIZE_DATABASE_URL") as info:
        start_embedded_postgres(tmp_path)
    assert INSTALL_EMBEDDED in str(info.value)
    assert not (tmp_path / "pgdata").exists()


@pytest.mark.usefixtures("without_extra")
def test_amqtt_broker_names_the_extra(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SERVITIZE_MQTT_URL") as info:
        start_broker(tmp_path, kind="amqtt")
    assert INSTALL_EMBEDDED in str(info.value)
    assert "Mosquitto" in str(info.value)


@pytest.mark.usefixtures("without_extra")
def test_demo_without_extra_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SERVITIZE_DATABASE_URL", raising=False)
    monkeypatch.setenv("SERVITIZE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        code = main(["demo", "--duration", "1"])
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("servitize: no embedded PostgreSQL: ")
    assert INSTALL_EMBEDDED in err
