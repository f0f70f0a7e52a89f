"""Charge models behind a factory: flat, graduated and volume per-device pricing."""

from __future__ import annotations

from billing.charge_models.base import ChargeModel
from billing.charge_models.flat import FlatModel
from billing.charge_models.graduated import GraduatedModel
from billing.charge_models.volume import VolumeModel

_MODELS: dict[str, ChargeModel] = {
    m.name: m for m in (FlatModel(), GraduatedModel(), VolumeModel())
}


def charge_model(name: str) -> ChargeModel:
    """The charge model for a plan's pricing_model name; a clear error for unknown names."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown pricing model {name!r}: expected one of {sorted(_MODELS)}"
        ) from None


__all__ = ["ChargeModel", "charge_model"]
