"""`servitize doctor` says when ingest's broker configuration can lose acknowledged messages."""

from __future__ import annotations

import os
import subprocess
import sys


def _doctor(db_url: str, broker_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servitize.cli", "doctor"],
        env=dict(os.environ, SERVITIZE_DATABASE_URL=db_url, SERVITIZE_MQTT_URL=broker_url, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_doctor_flags_a_share_group_allowed_on_mosquitto(db_url: str, broker_url: str) -> None:
    shipped = _doctor(db_url, broker_url)
    assert shipped.returncode == 0, shipped.stdout
    assert "ok  ingest group  '' (plain persistent subscription" in shipped.stdout
    refused = _doctor(db_url, broker_url, SERVITIZE_INGEST_GROUP="ingest")
    assert refused.returncode == 0 and "refused by ingest on Mosquitto" in refused.stdout
    lossy = _doctor(
        db_url,
        broker_url,
        SERVITIZE_INGEST_GROUP="ingest",
        SERVITIZE_INGEST_ALLOW_MOSQUITTO_SHARE="true",
    )
    assert lossy.returncode == 1
    assert "BAD ingest group  $share group 'ingest' allowed on Mosquitto" in lossy.stdout
