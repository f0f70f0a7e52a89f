"""Settings for every Servitize process, read from SERVITIZE_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All knobs in one place; each process reads the ones it needs."""

    model_config = SettingsConfigDict(env_prefix="SERVITIZE_", env_file=".env", extra="ignore")

    # None means "start an embedded one" (demo) or "use the local default" (tests).
    database_url: str | None = None
    mqtt_url: str | None = None
    data_dir: Path = Path(".servitize")
    log_level: str = "INFO"
    # auto: use TimescaleDB when the extension can be created, plain PostgreSQL otherwise.
    storage: Literal["auto", "timescaledb", "postgresql"] = "auto"

    # Ingest. 5,000 rows per transaction keeps one COPY/unnest round trip near 30 ms on
    # a small machine while amortising the commit (fsync) cost; 200 ms bounds the
    # latency a lone reading waits for company.
    # '' (default): one plain persistent subscription, restored by the broker after a restart.
    # A name: a $share group for several ingest processes; refused on Mosquitto (a restart
    # loses messages there) unless ingest_allow_mosquitto_share is set. See docs/ingest.md.
    ingest_group: str = ""
    ingest_allow_mosquitto_share: bool = False
    # None: the MQTT username (the deployed broker binds client ids to usernames).
    ingest_client_id: str | None = None
    ingest_batch_max_rows: int = Field(default=5000, ge=1)
    ingest_batch_max_delay_ms: int = Field(default=200, ge=1)
    # Broker-side in-flight window (MQTT receive maximum): unacked messages we hold.
    ingest_max_inflight: int = Field(default=2000, ge=1)
    ingest_registry_refresh_s: float = 5.0
    # Concurrent write transactions per ingest process (2: one copies while one commits).
    ingest_writers: int = Field(default=2, ge=1, le=16)
    ingest_max_future_s: int = 300
    ingest_max_payload_bytes: int = 256 * 1024
    ingest_max_batch_readings: int = 1000
    ingest_metrics_port: int | None = None

    # Storage policies (applied by `servitize migrate`).
    telemetry_retention_days: int = 365
    telemetry_compress_after_days: int = 7
    rollup_interval_s: float = 60.0

    # Webhooks may reach only public addresses; on-premise receivers are listed here:
    # comma-separated host names and CIDR networks (analytics/alerts/webhook_guard.py).
    webhook_allow: str = ""

    # Billing documents: the seller's bank details and payment terms printed on statements,
    # and a TrueType font with Chinese glyphs to embed (found automatically when unset).
    billing_seller_bank: str = ""
    billing_seller_account: str = ""
    billing_payment_terms_days: int = Field(default=30, ge=0, le=365)
    billing_pdf_font: Path | None = None

    # Fleet (commands, twins, packages, campaigns)
    fleet_client_id: str = "servitize-fleet-1"
    fleet_tick_s: float = Field(default=1.0, gt=0)
    # A command without receipt is sent again after base, 2 base, 4 base ... up to cap.
    fleet_retry_base_s: float = Field(default=5.0, gt=0)
    fleet_retry_cap_s: float = Field(default=300.0, gt=0)
    fleet_max_package_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    fleet_chunk_bytes: int = Field(default=32 * 1024, ge=256, le=256 * 1024)
    # PEM files of the provider's Ed25519 signing key (private) and its public half.
    fleet_signing_key: Path | None = None
    # HMAC secret of short-lived HTTP download tokens (unset: derived from the signing key);
    # the API and `servitize fleet run` must share it.
    fleet_download_secret: str | None = None
    fleet_download_ttl_s: int = Field(default=900, ge=1)

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Console (browser). Sessions end after idle_s without a request and after max_s in all.
    console_session_idle_s: int = Field(default=8 * 3600, ge=1)
    console_session_max_s: int = Field(default=24 * 3600, ge=1)
    # Secure cookies: None = when the request came over https (or X-Forwarded-Proto says so).
    console_secure_cookies: bool | None = None
    # Login throttling: after `throttle_after` failures each try waits (doubling, up to 30 s);
    # after `lock_after` failures the account is locked for lock_s.
    console_throttle_after: int = Field(default=3, ge=1)
    console_lock_after: int = Field(default=5, ge=1)
    console_lock_s: int = Field(default=15 * 60, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
