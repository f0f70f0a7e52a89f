"""Serving the API with uvicorn, for `servitize api` and `servitize demo`.

The listening socket is bound before anything starts, so a busy port is one clear line
instead of uvicorn's error after startup. On SIGINT/SIGTERM the server says it is stopping,
ends open event streams at once and gives other requests GRACE_S to finish.
"""

from __future__ import annotations

import signal
import socket
import sys
from types import FrameType
from typing import Any

import uvicorn
from sse_starlette.sse import AppStatus

from servitize.db import ConfigError

# Requests still running this long after a stop signal are cancelled.
GRACE_S = 2


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, or ConfigError saying the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}. Stop what uses that port "
            "or choose another one (--port / --api-port, or SERVITIZE_API_PORT)."
        ) from exc
    sock.set_inheritable(True)
    return sock


def config(app: Any, **options: Any) -> uvicorn.Config:
    """uvicorn settings every API server shares."""
    return uvicorn.Config(app, timeout_graceful_shutdown=GRACE_S, **options)


def say_stopping(command: str, sig: int) -> None:
    """Tell the operator a stop signal arrived (stderr, so it shows next to the logs)."""
    name = signal.Signals(sig).name
    print(f"{command}: {name} received, stopping (open streams are closed)", file=sys.stderr)
    sys.stderr.flush()


def end_streams() -> None:
    """Make every open Server-Sent Events stream of this process finish now."""
    AppStatus.should_exit = True


class ApiServer(uvicorn.Server):
    """uvicorn's server that says it is stopping on the first signal (a second forces it)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Announce the stop, end the streams, then let uvicorn shut down."""
        if not self.should_exit:
            say_stopping("servitize api", sig)
        end_streams()
        super().handle_exit(sig, frame)
