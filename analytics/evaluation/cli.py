"""`servitize evaluate` and `servitize train`: evaluations and the multivariate model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


async def _train(args: argparse.Namespace) -> int:
    from datetime import datetime

    from analytics.monitor.modelstore import train
    from servitize import startup

    try:
        start, end = datetime.fromisoformat(args.start), datetime.fromisoformat(args.end)
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise ValueError("--from and --to need UTC offsets and --from < --to")
    except ValueError as exc:
        print(f"servitize train: {exc}", file=sys.stderr)
        return 2
    pool = await startup.service_pool("analytics", max_size=2)
    try:
        done = await train(pool, args.device_type, start, end)
    except ValueError as exc:
        print(f"servitize train: {exc}", file=sys.stderr)
        return 2
    finally:
        await pool.close()
    print(
        f"trained {done.device_type} model v{done.version} on {done.samples} rows of "
        f"{done.devices} devices; flag threshold {done.threshold:.3f} (now active)"
    )
    return 0


def train_command(t: argparse.ArgumentParser) -> None:
    """`servitize train`: its arguments and handler."""
    t.add_argument("--type", required=True, dest="device_type")
    t.add_argument("--from", dest="start", required=True, help="training window start (ISO 8601)")
    t.add_argument("--to", dest="end", required=True, help="training window end (ISO 8601)")
    t.set_defaults(handler=_train)


def evaluate_command(p: argparse.ArgumentParser) -> None:
    """`servitize evaluate`: its arguments and handler."""
    esub = p.add_subparsers(dest="evaluate_command", required=True)
    q = esub.add_parser("nab", help="NAB v1.1 normalised scores beside the published table")
    q.add_argument("--nab-dir", type=Path, help="corpus dir (default: ../shared/data/nab)")
    q.set_defaults(handler=_nab)
    q = esub.add_parser("simulators", help="event-level scores on simulator ground truth")
    q.add_argument("--dir", type=Path, default=Path("sim-out"), help="offline simulator output")
    q.add_argument("--labels", type=Path, help="labels JSON (default: DIR/labels.json)")
    q.set_defaults(handler=_simulators)
    for name, text in (("skab", "SKAB checkout or its data/ folder"), ("tep", "TEP .dat files")):
        q = esub.add_parser(name, help=f"row-level F1 / FAR / MAR on {name.upper()}")
        q.add_argument("--dir", type=Path, required=True, help=text)
        q.add_argument("--model", choices=["pca", "similarity", "both"], default="pca")
        q.set_defaults(handler=_benchmark, benchmark=name)


def _nab(args: argparse.Namespace) -> int:
    from analytics.evaluation import nab
    from analytics.evaluation.evaluate import nab_report

    nab_dir = args.nab_dir or nab.default_dir(REPO_ROOT)
    if not (nab_dir / "labels" / "combined_windows.json").exists():
        print(
            f"servitize evaluate nab: no NAB corpus at {nab_dir} (use --nab-dir)", file=sys.stderr
        )
        return 2
    print(nab_report(nab_dir))
    return 0


def _simulators(args: argparse.Namespace) -> int:
    from analytics.evaluation.simeval import report

    labels = args.labels or args.dir / "labels.json"
    if not (args.dir / "devices.csv").exists() or not labels.exists():
        print(
            f"servitize evaluate simulators: need {args.dir}/devices.csv and {labels}; make them "
            "with `servitize simulate --mode offline --out DIR --labels DIR/labels.json`",
            file=sys.stderr,
        )
        return 2
    print(report(args.dir, labels))
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    from analytics.detectors.joint import JointKind
    from analytics.evaluation import benchmarks

    kind = JointKind(args.model)
    if args.benchmark == "skab":
        if not benchmarks.skab_files(args.dir):
            print(
                f"servitize evaluate skab: no valve1/valve2/other CSVs under {args.dir}",
                file=sys.stderr,
            )
            return 2
        print(benchmarks.skab_report(args.dir, kind))
        return 0
    if not (args.dir / "d00.dat").exists():
        print(f"servitize evaluate tep: no d00.dat in {args.dir}", file=sys.stderr)
        return 2
    print(benchmarks.tep_report(args.dir, kind))
    return 0
