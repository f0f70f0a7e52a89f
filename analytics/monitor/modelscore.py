"""Scoring one device's batch with its type's multivariate model (windows span batches)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from analytics.alerts.models import Severity
from analytics.detectors.multivariate import MultivariateModel, carry_forward
from analytics.detectors.rules import SEVERITIES, Condition
from analytics.detectors.tracker import Signal, Tracker
from analytics.monitor.findings import Finding

F = NDArray[np.float64]
KEY = "model:multivariate"


def model_findings(
    model: MultivariateModel, tail: F | None, tracker: Tracker, batch: dict[str, tuple[F, F]]
) -> tuple[list[Finding], F | None]:
    """Findings of this batch and the rows the next batch's windows need."""
    times = np.unique(np.concatenate([ts for ts, _ in batch.values()]))
    rows = carry_forward(_rows(model, times, batch), tail[-1] if tail is not None else None)
    joined = rows if tail is None else np.concatenate([tail, rows])
    tail = joined[-(model.window - 1) :]
    if len(joined) < model.window:
        return [], tail
    scores, flags = model.score_rows(joined)
    ts = times[len(times) - len(scores) :]
    scores, flags = scores[-len(ts) :], flags[-len(ts) :]
    n = len(ts)
    sev = np.full(n, SEVERITIES.index("warning"), np.int64)
    cond = Condition(flags, ~flags, sev, scores, np.full(n, model.threshold), scores)
    sig = tracker.process(ts, cond)
    return ([] if sig is None else [_finding(model, sig, scores)]), tail


def _rows(model: MultivariateModel, times: F, batch: dict[str, tuple[F, F]]) -> F:
    """One row per device time, one column per model metric (NaN where not reported)."""
    rows = np.full((len(times), len(model.metrics)), np.nan)
    for j, metric in enumerate(model.metrics):
        if metric in batch:
            ts, values = batch[metric]
            rows[np.searchsorted(times, ts), j] = values
    return rows


def _finding(model: MultivariateModel, sig: Signal, scores: F) -> Finding:
    i = sig.peak_index
    value = float(scores[i]) if i is not None else None
    version = model.meta.get("version", "?")
    text = (
        f"multivariate model v{version} score {value:.3f} > {model.threshold:.3f} "
        f"over {len(model.metrics)} metrics"
        if value is not None
        else ""
    )
    ev = {"value": value, "threshold": model.threshold, "score": value, "version": version}
    return Finding(
        rule=KEY,
        detector="model",
        metric=None,
        severity=Severity.WARNING,
        signal=sig,
        value=value,
        threshold=model.threshold,
        score=value,
        sentence=text,
        evidence=ev,
    )
