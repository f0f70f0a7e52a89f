"""Train, store and load the multivariate models (one active version per device type)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from analytics.detectors.multivariate import MultivariateModel
from analytics.monitor import catalog
from analytics.monitor import repository as repo
from ingest import service as ingest
from registry import service as registry
from servitize.db import Connection, Pool, transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainedModel:
    """What `servitize train` reports."""

    device_type: str
    version: int
    samples: int
    devices: int
    threshold: float


def align(
    rows: list[tuple[float, str, float]], metrics: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(times, matrix) of one device's readings aligned by timestamp (NaN = not reported)."""
    times = np.array(sorted({r[0] for r in rows}))
    col = {m: i for i, m in enumerate(metrics)}
    out = np.full((len(times), len(metrics)), np.nan)
    where = {t: i for i, t in enumerate(times.tolist())}
    for t, metric, value in rows:
        if metric in col:
            out[where[t], col[metric]] = value
    return times, out


async def type_metrics(conn: Connection, device_type: str) -> tuple[str, ...]:
    """The metrics the model of a type uses: its catalog minus the unwatched ones."""
    names = await registry.type_metric_names(conn, device_type)
    return tuple(m for m in names if catalog.watched(device_type, m))


async def train(pool: Pool, device_type: str, start: datetime, end: datetime) -> TrainedModel:
    """Fit a model on the type's stored readings in [start, end) and make it the active one."""
    async with pool.acquire() as conn:
        metrics = await type_metrics(conn, device_type)
        if not metrics:
            raise ValueError(f"unknown device type {device_type!r} (or no metrics)")
        devices = await registry.device_ids_of_type(conn, device_type)
        data = await ingest.clean_readings(conn, devices, start, end)
    per_device: dict[str, list[tuple[float, str, float]]] = {}
    for r in data:
        per_device.setdefault(r["device_id"], []).append((r["t"], r["metric"], r["value"]))
    matrices = [align(rows, metrics)[1] for rows in per_device.values()]
    model = MultivariateModel.fit(metrics, matrices)
    samples = sum(len(m) for m in matrices)
    async with transaction(pool) as conn:
        version = await _save(conn, device_type, model, start, end, samples)
    return TrainedModel(
        device_type=device_type,
        version=version,
        samples=samples,
        devices=len(matrices),
        threshold=model.threshold,
    )


async def _save(
    conn: Connection,
    device_type: str,
    model: MultivariateModel,
    start: datetime,
    end: datetime,
    samples: int,
) -> int:
    version = await repo.next_model_version(conn, device_type)
    model.meta.update(version=version, trained_from=start.isoformat(), trained_to=end.isoformat())
    fields = {
        "trained_from": start,
        "trained_to": end,
        "samples": samples,
        "params": {
            "metrics": list(model.metrics),
            "window": model.window,
            "threshold": model.threshold,
        },
        "blob": model.dumps(),
    }
    await repo.insert_active_model(conn, device_type, version, fields)
    return version


async def active_models(pool: Pool) -> dict[str, MultivariateModel]:
    """The active model of every device type that has one."""
    async with pool.acquire() as conn:
        rows = await repo.active_model_blobs(conn)
    return {r["device_type_id"]: MultivariateModel.loads(r["blob"]) for r in rows}
