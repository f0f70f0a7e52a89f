"""Ingest's broker session rules: reconnect pacing, shared-group safety, client id = username."""

from __future__ import annotations

import pytest

from ingest.session import Backoff, ingest_client_id, is_mosquitto, shared_group_risk
from servitize.db import ConfigError
from servitize.mqtturl import MqttUrl
from servitize.settings import Settings


def test_backoff_retries_at_once_then_doubles_and_restarts_after_success() -> None:
    backoff = Backoff(first_s=0.25, max_s=2.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.0, 0.25, 0.5, 1.0, 2.0, 2.0]
    backoff.reset()
    assert [backoff.next_delay() for _ in range(2)] == [0.0, 0.25]


def test_shared_group_risk() -> None:
    assert shared_group_risk("", "mosquitto version 2.0.11") is None
    assert shared_group_risk("", None) is None
    risk = shared_group_risk("ingest", "mosquitto version 2.0.11")
    assert risk and "does not restore" in risk and "SERVITIZE_INGEST_GROUP=''" in risk
    unknown = shared_group_risk("ingest", None)
    assert unknown and "did not say what it is" in unknown
    assert shared_group_risk("ingest", "emqx 5.8") is None
    assert is_mosquitto("mosquitto version 2.0.11") and not is_mosquitto(None)


def test_shipped_settings_use_a_plain_subscription() -> None:
    assert Settings(_env_file=None).ingest_group == ""


def test_ingest_client_id_is_its_username() -> None:
    url = MqttUrl.parse("mqtt://ingest-2:pw@broker:1883")
    assert ingest_client_id(None, url) == "ingest-2"
    assert ingest_client_id("ingest-2", url) == "ingest-2"
    assert ingest_client_id(None, MqttUrl.parse("mqtt://broker")) == "servitize-ingest-1"
    assert ingest_client_id("mine", MqttUrl.parse("mqtt://broker")) == "mine"
    with pytest.raises(ConfigError, match="must equal the MQTT username 'ingest-2'"):
        ingest_client_id("servitize-ingest-1", url)
