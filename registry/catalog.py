"""Built-in device types of the two reference businesses and a factory asset under a care plan.

Valid ranges are the sensors' measuring ranges: a value outside one cannot be a real
reading of the quantity, so ingest stores it flagged and keeps it out of rollups.
"""

from __future__ import annotations

from registry.models import DeviceType, MetricSpec

M = MetricSpec

SUBSTATION_ROBOT = DeviceType(
    id="substation-robot",
    name="Substation inspection robot",
    description="Wheeled robot patrolling checkpoints with an infrared camera; docks to charge.",
    reporting_interval_s=10,
    metrics=(
        M("battery_pct", "%", 0, 100, "state of charge"),
        M("battery_voltage_v", "V", 0, 60, "pack voltage"),
        M("motor_temp_c", "°C", -40, 150, "drive motor winding temperature"),
        M("cpu_temp_c", "°C", -40, 120, "onboard computer temperature"),
        M("speed_mps", "m/s", 0, 3, "ground speed"),
        M("route_position_m", "m", 0, 10000, "distance along the patrol route"),
        M("ir_max_temp_c", "°C", -40, 400, "hottest point seen by the infrared camera"),
        M("ambient_temp_c", "°C", -50, 70, "air temperature"),
        M("humidity_pct", "%", 0, 100, "relative humidity"),
        M("wifi_rssi_dbm", "dBm", -120, 0, "wireless signal strength"),
        M("odometer_km", "km", 0, 1_000_000, "total distance driven"),
    ),
)

SLOPE_MONITOR = DeviceType(
    id="slope-monitor",
    name="Slope geohazard monitoring station",
    description="GNSS displacement, tilt, crack, rain gauge, soil moisture and pore pressure.",
    reporting_interval_s=60,
    metrics=(
        M("gnss_disp_mm", "mm", -5000, 5000, "cumulative surface displacement"),
        M("tilt_x_deg", "°", -30, 30, "inclinometer X"),
        M("tilt_y_deg", "°", -30, 30, "inclinometer Y"),
        M("crack_width_mm", "mm", 0, 500, "crack meter opening"),
        M("rainfall_mm", "mm", 0, 300, "rain in the reporting interval"),
        M("soil_moisture_pct", "%", 0, 100, "volumetric water content"),
        M("pore_pressure_kpa", "kPa", -100, 2000, "piezometer pore water pressure"),
        M("battery_v", "V", 0, 30, "station battery voltage"),
    ),
)

BRIDGE_MONITOR = DeviceType(
    id="bridge-monitor",
    name="Bridge structural health monitor",
    description="Strain, deflection, vibration and temperature on a span.",
    reporting_interval_s=30,
    metrics=(
        M("strain_ue", "µε", -3000, 3000, "strain gauge"),
        M("deflection_mm", "mm", -500, 500, "mid-span deflection"),
        M("vibration_rms_g", "g", 0, 10, "acceleration RMS"),
        M("temp_c", "°C", -50, 80, "structure temperature"),
    ),
)

PUMP_MOTOR = DeviceType(
    id="pump-motor",
    name="Pump and motor set",
    description="A factory pump under a care plan.",
    reporting_interval_s=10,
    metrics=(
        M("vibration_rms_mm_s", "mm/s", 0, 100, "bearing housing vibration velocity (ISO 10816)"),
        M("motor_current_a", "A", 0, 500, "phase current"),
        M("bearing_temp_c", "°C", -40, 200, "drive-end bearing temperature"),
        M("pressure_bar", "bar", 0, 100, "discharge pressure"),
        M("flow_m3h", "m³/h", 0, 2000, "flow rate"),
    ),
)

BUILTIN_TYPES: tuple[DeviceType, ...] = (
    SUBSTATION_ROBOT,
    SLOPE_MONITOR,
    BRIDGE_MONITOR,
    PUMP_MOTOR,
)


def builtin_type(type_id: str) -> DeviceType:
    """A built-in device type by id."""
    for device_type in BUILTIN_TYPES:
        if device_type.id == type_id:
            return device_type
    raise KeyError(type_id)
