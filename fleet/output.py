"""Printing service results in the fleet CLI."""

from __future__ import annotations

import json
from typing import Any


def print_json(value: Any) -> None:
    """Print a service result as indented JSON."""
    print(json.dumps(value, indent=2, default=str))
