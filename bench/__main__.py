"""`python -m bench`: run every benchmark module in turn (each prints its own table)."""

from __future__ import annotations

import subprocess
import sys

BENCHES = (
    "bench.ingest",
    "bench.ingest_restart",
    "bench.simulate",
    "bench.detect",
    "bench.billing",
    "bench.fieldservice",
    "bench.api",
    "bench.fleet",
    "bench.console",
)


def main() -> int:
    """Run each benchmark as its own process; returns the worst exit code."""
    worst = 0
    for name in BENCHES:
        print(f"\n## {name}\n", flush=True)
        worst = max(worst, subprocess.call([sys.executable, "-m", name]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
