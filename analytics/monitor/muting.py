"""Openings that are the process, not a fault: muted before they become alerts."""

from __future__ import annotations

import numpy as np

from analytics.monitor.catalog import Context
from analytics.monitor.findings import Finding

F = np.ndarray
# Anomalies opening together on this many metrics of one device are the process (a pump
# starting, a robot leaving its dock, a heavy truck straining and bending a bridge deck), not
# a sensor fault: a failing sensor shows in that sensor alone. They are muted.
COINCIDENT_METRICS = 2
COINCIDENT_S = 60.0


def coincident(found: list[Finding], jumps: dict[str, F]) -> set[str]:
    """Openings while another metric opens or jumps: an operating-state change."""
    # a relation's residual already takes the process out: it is never muted by it
    opened = [
        f
        for f in found
        if f.signal.episodes
        and not f.rule.startswith("rule:")
        and f.metric is not None
        and "~" not in f.rule
    ]
    muted: set[str] = set()
    for f in opened:
        start = f.signal.episode_start or 0.0
        near = {
            g.metric for g in opened if abs((g.signal.episode_start or 0.0) - start) <= COINCIDENT_S
        } | jumping(jumps, start)
        if len(near) >= COINCIDENT_METRICS:
            muted.add(f.rule)
    return muted


def jumping(jumps: dict[str, F], at: float) -> set[str | None]:
    """Metrics with a jump within COINCIDENT_S of a device time."""
    return {
        m for m, ts in jumps.items() if len(ts) and float(np.abs(ts - at).min()) <= COINCIDENT_S
    }


def explained(ctx: Context, context_ts: float, found: list[Finding]) -> set[str]:
    """Openings on metrics the context explains, within its reach of its last driver reading."""
    return {
        f.rule
        for f in found
        if f.signal.episodes
        and ctx.explains(f.metric, f.detector)
        and (f.signal.episode_start or 0.0) - context_ts <= ctx.for_s
    }
