"""Built-in device types of the two reference businesses and a factory asset under a care plan.

Valid ranges are the sensors' measuring ranges: a value outside one cannot be a real
reading of the quantity, so ingest stores it flagged and keeps it out of rollups.

Each type carries its detection data (catalog rules with their sources, operating regime,
cross-metric relations; analytics/monitor/catalog.py builds the rules from it) and its
offline policy. Limits are conservative defaults an operator would start from; the
self-tuning detectors cover everything the catalog does not name.
"""

from __future__ import annotations

from typing import Any

from registry.models import DeviceType, MetricSpec

M = MetricSpec
Spec = dict[str, Any]


def threshold(
    name: str, metric: str, op: str, limit: float, for_s: float, hyst: float, severity: str
) -> Spec:
    """A threshold held for `for_s` seconds, clearing `hyst` inside the limit."""
    return {"kind": "threshold", "name": name, "metric": metric, "op": op, "limit": limit,
            "for_s": for_s, "hysteresis": hyst, "severity": severity}  # fmt: skip


def detection(
    rules: list[Spec], regime: Spec | None = None, relations: list[Spec] | None = None
) -> Spec:
    """A type's detection data."""
    return {"rules": rules, "regime": regime, "relations": relations or []}


ROBOT_DETECTION = detection(
    [
        threshold("battery_low", "battery_pct", "<", 15.0, 60, 5.0, "warning"),
        threshold("motor_overtemp", "motor_temp_c", ">", 90.0, 120, 5.0, "major"),
        threshold("cpu_overtemp", "cpu_temp_c", ">", 85.0, 120, 5.0, "warning"),
        # An infrared hot spot on substation equipment. DL/T 664 judges infrared findings by
        # temperature rise over the reference (ambient) and relative difference; a 40 °C rise
        # is far above what healthy loaded equipment shows in sunshine.
        {"kind": "rise", "name": "ir_hotspot", "metric": "ir_max_temp_c",
         "reference": "ambient_temp_c", "limit": 40.0, "severity": "major"},
    ]
)  # fmt: skip

SLOPE_DETECTION = detection(
    [
        # 2 mm/day: a GNSS station's daily noise is around 1-2 mm, so slower creep is noise.
        # One warning per station: GNSS displacement and the crack meter feed the same key,
        # so a station's level is the higher of the two and one movement is one alert.
        # Movement the station's pore pressure explains (rain-fed creep) is not warned.
        {"kind": "slope", "name": "slope_warning", "metric": "gnss_disp_mm",
         "v_ref_per_day": 2.0, "reference": "pore_pressure_kpa"},
        {"kind": "slope", "name": "slope_warning", "metric": "crack_width_mm",
         "v_ref_per_day": 1.0, "reference": "pore_pressure_kpa"},
        threshold("heavy_rain", "rainfall_mm", ">", 30.0, 0, 5.0, "warning"),
    ]
)  # fmt: skip

BRIDGE_DETECTION = detection(
    [
        threshold("strain_high", "strain_ue", ">", 1500.0, 60, 100.0, "major"),
        threshold("deflection_high", "deflection_mm", ">", 100.0, 60, 10.0, "major"),
        threshold("vibration_high", "vibration_rms_g", ">", 0.5, 60, 0.05, "warning"),
    ],
    # A vehicle strains and bends a span at once, and restrained thermal strain and thermal
    # deflection both follow the deck's temperature: strain is linear in deflection and
    # temperature, so a gauge's spike or drift stands out of a residual free of traffic.
    relations=[{"target": "strain_ue", "inputs": ["deflection_mm", "temp_c"], "degree": 1}],
)

PUMP_DETECTION = detection(
    [
        # Rolling bearings are usually alarmed at 80-85 °C and tripped near 95-100 °C.
        threshold("bearing_temp_high", "bearing_temp_c", ">", 85.0, 120, 3.0, "major"),
        threshold("bearing_temp_trip", "bearing_temp_c", ">", 95.0, 30, 3.0, "critical"),
        # ISO 10816-3, group 2 machines on flexible foundations: zone C/D boundary 7.1 mm/s.
        threshold("vibration_zone_d", "vibration_rms_mm_s", ">", 7.1, 60, 0.5, "major"),
        {"kind": "rate", "name": "bearing_temp_rate", "metric": "bearing_temp_c",
         "max_per_min": 5.0, "severity": "warning"},
    ],
    # A stopped pump draws no current; its bearings reach operating temperature about an
    # hour after a start (a housing time constant of ~20 minutes, three of them). Plant pumps
    # on a two-shift weekday schedule run about half of the week.
    regime={"driver": "motor_current_a", "above": 0.5, "settle_s": 3600.0, "duty": 0.5},
    # Along the pump curve, shaft power (so current) and head are smooth functions of flow;
    # a quadratic covers the flows a duty point spans.
    relations=[
        {"target": "motor_current_a", "inputs": ["flow_m3h"], "degree": 2},
        {"target": "pressure_bar", "inputs": ["flow_m3h"], "degree": 2},
    ],
)  # fmt: skip

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
    detection=ROBOT_DETECTION,
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
    detection=SLOPE_DETECTION,
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
    detection=BRIDGE_DETECTION,
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
    detection=PUMP_DETECTION,
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
