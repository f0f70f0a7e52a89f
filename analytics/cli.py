"""`servitize detect | score | train | evaluate`: the analytics commands."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import datetime
from pathlib import Path

from servitize import db, startup


def detect_command(p: argparse.ArgumentParser) -> None:
    """`servitize detect`: its arguments and handler."""
    p.add_argument("--partition", default="0/1", help="this process's share i/N of the devices")
    p.add_argument("--replay", action="store_true", help="replay stored history instead")
    p.add_argument("--from", dest="start", type=_when, help="replay start (ISO 8601)")
    p.add_argument("--to", dest="end", type=_when, help="replay end, exclusive (ISO 8601)")
    p.add_argument("--dry-run", action="store_true", help="replay without writing alerts")
    p.set_defaults(handler=_detect)


def score_command(p: argparse.ArgumentParser) -> None:
    """`servitize score`: its arguments and handler."""
    p.add_argument("file", type=Path)
    p.add_argument("--sep", default=",")
    p.add_argument("--time-col", default="timestamp")
    p.add_argument(
        "--columns", help="comma-separated columns (default: all but time and label-like ones)"
    )
    p.add_argument("--out", type=Path, help="output CSV (default: FILE.scores.csv)")
    p.add_argument(
        "--train-rows", "--warmup", type=int, default=240, help="first N rows are normal (train)"
    )
    p.add_argument("--train-file", type=Path, help="an anomaly-free recording to train on instead")
    p.add_argument("--model", choices=["pca", "similarity", "both"], default="pca")
    p.add_argument("--univariate", action="store_true", help="per-column detectors, not joint")
    p.set_defaults(handler=_score)


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a UTC offset, e.g. 2026-01-01T00:00Z")
    return value


def parse_partition(text: str) -> tuple[int, int]:
    """'i/N' -> (i, N) with 0 <= i < N."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"partition {text!r}: use i/N, e.g. 0/2") from None
    if not 0 <= i < n:
        raise ValueError(f"partition {text!r}: need 0 <= i < N")
    return i, n


async def _detect(args: argparse.Namespace) -> int:
    try:
        part = parse_partition(args.partition)
    except ValueError as exc:
        print(f"servitize detect: {exc}", file=sys.stderr)
        return 2
    # lease session, LISTEN session, steps, notifier, and one to spare
    pool = await startup.service_pool("detect", max_size=5)
    try:
        if args.replay:
            return await _replay(pool, args, part)
        from analytics.monitor.detect import run_detector

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"detector {part[0]}/{part[1]} running; Ctrl-C stops", flush=True)
        await run_detector(pool, stop, part)
        return 0
    finally:
        await pool.close()


async def _replay(pool: db.Pool, args: argparse.Namespace, part: tuple[int, int]) -> int:
    from analytics.monitor.replay import replay

    if args.start is None or args.end is None or args.end <= args.start:
        print("servitize detect --replay needs --from < --to", file=sys.stderr)
        return 2
    counts = await replay(pool, args.start, args.end, partition=part, dry_run=args.dry_run)
    total = sum(counts.values())
    print(f"replayed {args.start} .. {args.end}: {total} findings {dict(counts)}")
    return 0


def _score(args: argparse.Namespace) -> int:
    from analytics.detectors.joint import JointKind
    from analytics.evaluation import csvscore, scoring

    try:
        columns = scoring.parse_columns(args.columns)
        table = scoring.read_table(args.file, args.sep, args.time_col, columns)
        train = None
        if args.train_file:
            train = scoring.read_table(
                args.train_file, args.sep, args.time_col, list(table.columns)
            )
        req = csvscore.ScoreRequest(
            train_rows=args.train_rows,
            train=train,
            kind=JointKind(args.model),
            joint=False if args.univariate else None,
        )
        scored = csvscore.score(table, req)
    except (scoring.CsvError, OSError, UnicodeDecodeError) as exc:
        print(f"servitize score: {exc}", file=sys.stderr)
        return 2
    if table.out_of_order:
        late = table.out_of_order
        print(
            f"warning: {late} rows are earlier than the row before them"
            if late > 0
            else "warning: time values are not ISO 8601 or epoch seconds; order not checked"
        )
    out = args.out or args.file.with_suffix(".scores.csv")
    csvscore.write(out, args.time_col, table, scored, args.sep)
    rows = int(scored.state.sum())
    print(
        f"scored {len(table.times)} rows x {len(table.columns)} columns -> {out}; "
        f"{rows} rows anomalous in {scored.onsets} episodes"
    )
    return 0
