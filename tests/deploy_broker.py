"""A private Mosquitto running the shipped deploy/mosquitto/mosquitto.conf, restartable.

Only the listener and file locations are rewritten (a free loopback port, a scratch directory);
every other setting (persistence, queue limits, auth, client-id binding) is the deployed one.
"""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import uuid
from pathlib import Path

from registry import service as registry
from registry.credentials import hash_password
from servitize.db import Pool
from servitize.infra import free_port, mosquitto_binary, wait_for_port

DEPLOY_CONF = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto" / "mosquitto.conf"


def deploy_config(port: int, work: Path) -> str:
    """The deployed configuration, listening on 127.0.0.1:port with its files under work/."""
    text = DEPLOY_CONF.read_text()
    swaps = {
        r"^listener .*$": f"listener {port} 127.0.0.1",
        r"^password_file .*$": f"password_file {work / 'passwd'}",
        r"^acl_file .*$": f"acl_file {work / 'acl'}",
        r"^persistence_location .*$": f"persistence_location {work}/",
    }
    for pattern, line in swaps.items():
        text, n = re.subn(pattern, line, text, flags=re.MULTILINE)
        assert n == 1, f"deploy config has no single {pattern!r} line"
    # Started as root, Mosquitto switches to user mosquitto, who cannot write the scratch files.
    user = f"user {getpass.getuser()}\n" if os.geteuid() == 0 else ""
    return text + f"log_dest file {work / 'mosquitto.log'}\n" + user


class DeployBroker:
    """Mosquitto with the deploy configuration; stop() is a clean SIGTERM, as systemd does."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.work = root / f"deploy-broker-{uuid.uuid4().hex[:8]}"
        self.work.mkdir(parents=True)
        (self.work / "m.conf").write_text(deploy_config(self.port, self.work))
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, username: str, password: str) -> str:
        """Where a client logs in as username."""
        return f"mqtt://{username}:{password}@127.0.0.1:{self.port}"

    async def write_auth(self, pool: Pool, service_users: dict[str, str]) -> None:
        """Password file and ACL generated from the registry, service users by password."""
        hashed = {user: hash_password(pw) for user, pw in service_users.items()}
        passwd, acl = await registry.mosquitto_auth_files(pool, hashed)
        (self.work / "passwd").write_text(passwd)
        (self.work / "acl").write_text(acl)

    def start(self) -> None:
        """Start (again, with what its persistence file holds)."""
        binary = mosquitto_binary()
        assert binary, "Mosquitto is not installed"
        cmd = [binary, "-c", str(self.work / "m.conf")]
        self.process = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", self.port)

    def stop(self) -> None:
        """SIGTERM and wait: Mosquitto writes its persistence file on the way out."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None

    def restart(self) -> None:
        """Stop, then start on the same port with the same files."""
        self.stop()
        self.start()
