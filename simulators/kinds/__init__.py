"""Physical models per built-in device type."""

from __future__ import annotations

from simulators.kinds.base import KindModel
from simulators.kinds.bridge import BridgeModel
from simulators.kinds.pump import PumpModel
from simulators.kinds.robot import RobotModel
from simulators.kinds.slope import SlopeModel

MODELS: dict[str, type[KindModel]] = {
    m.type_id: m for m in (RobotModel, SlopeModel, BridgeModel, PumpModel)
}


def model_class(type_id: str) -> type[KindModel]:
    """The model of a device type, or a clear error for a type nobody simulates."""
    try:
        return MODELS[type_id]
    except KeyError:
        raise ValueError(f"no simulator for device type {type_id!r}") from None
