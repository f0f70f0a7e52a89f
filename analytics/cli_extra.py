"""`servitize evaluate` and `servitize train`: evaluations and the multivariate model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def register(sub: Any) -> None:
    """Add evaluate (nab, simulators)."""
    p = sub.add_parser("evaluate", help="score the detectors on NAB or simulator ground truth")
    esub = p.add_subparsers(dest="evaluate_command", required=True)
    q = esub.add_parser("nab", help="NAB v1.1 normalised scores beside the published table")
    q.add_argument("--nab-dir", type=Path, help="corpus dir (default: ../shared/data/nab)")
    q.set_defaults(handler=_nab)


def _nab(args: argparse.Namespace) -> int:
    from analytics import nab
    from analytics.evaluate import nab_report

    nab_dir = args.nab_dir or nab.default_dir(REPO_ROOT)
    if not (nab_dir / "labels" / "combined_windows.json").exists():
        print(
            f"servitize evaluate nab: no NAB corpus at {nab_dir} (use --nab-dir)", file=sys.stderr
        )
        return 2
    print(nab_report(nab_dir))
    return 0
