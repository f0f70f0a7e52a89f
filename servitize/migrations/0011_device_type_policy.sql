-- One offline policy and the detection rules as data of each device type.
-- offline_after_intervals: a device is "silent" (device_presence) and raises an `offline`
-- alert after this many reporting intervals without a message; one value for both.
-- detection: {"rules": [...], "regime": {...} | null, "relations": [...]}, read by
-- analytics/monitor/catalog.py; a type without it has no catalog rules, regime or relations.
ALTER TABLE device_types
    ADD COLUMN offline_after_intervals real NOT NULL DEFAULT 5
        CHECK (offline_after_intervals >= 1 AND offline_after_intervals <= 1000),
    ADD COLUMN detection jsonb NOT NULL DEFAULT '{"rules": [], "regime": null, "relations": []}';

CREATE OR REPLACE VIEW device_presence AS
SELECT d.id AS device_id,
       d.tenant_id,
       d.site_id,
       s.online AS reported_online,
       s.status_changed_at,
       s.last_seen_at,
       s.last_reading_ts,
       CASE
           WHEN s.online IS FALSE
                AND (s.last_seen_at IS NULL OR s.last_seen_at <= s.status_changed_at)
               THEN 'offline'
           WHEN s.last_seen_at IS NULL THEN 'never_seen'
           WHEN s.last_seen_at < now() - t.offline_after_intervals
                                         * make_interval(secs => t.reporting_interval_s)
               THEN 'silent'
           ELSE 'online'
       END AS presence
FROM devices d
JOIN device_types t ON t.id = d.device_type_id
LEFT JOIN device_status s ON s.device_id = d.id;

-- Existing databases: the built-in types get their seeded detection data now (new ones get
-- it from registry/catalog.py when the types are registered); a type already edited keeps its.
-- tests/unit/test_type_detection_seed.py holds this equal to registry/catalog.py.
UPDATE device_types SET detection = '{"regime": null, "relations": [], "rules": [{"for_s": 60, "hysteresis": 5.0, "kind": "threshold", "limit": 15.0, "metric": "battery_pct", "name": "battery_low", "op": "<", "severity": "warning"}, {"for_s": 120, "hysteresis": 5.0, "kind": "threshold", "limit": 90.0, "metric": "motor_temp_c", "name": "motor_overtemp", "op": ">", "severity": "major"}, {"for_s": 120, "hysteresis": 5.0, "kind": "threshold", "limit": 85.0, "metric": "cpu_temp_c", "name": "cpu_overtemp", "op": ">", "severity": "warning"}, {"kind": "rise", "limit": 40.0, "metric": "ir_max_temp_c", "name": "ir_hotspot", "reference": "ambient_temp_c", "severity": "major"}]}'::jsonb
    WHERE id = 'substation-robot' AND detection = '{"rules": [], "regime": null, "relations": []}'::jsonb;
UPDATE device_types SET detection = '{"regime": null, "relations": [], "rules": [{"kind": "slope", "metric": "gnss_disp_mm", "name": "slope_warning", "reference": "pore_pressure_kpa", "v_ref_per_day": 2.0}, {"kind": "slope", "metric": "crack_width_mm", "name": "slope_warning", "reference": "pore_pressure_kpa", "v_ref_per_day": 1.0}, {"for_s": 0, "hysteresis": 5.0, "kind": "threshold", "limit": 30.0, "metric": "rainfall_mm", "name": "heavy_rain", "op": ">", "severity": "warning"}]}'::jsonb
    WHERE id = 'slope-monitor' AND detection = '{"rules": [], "regime": null, "relations": []}'::jsonb;
UPDATE device_types SET detection = '{"regime": null, "relations": [{"degree": 1, "inputs": ["deflection_mm", "temp_c"], "target": "strain_ue"}], "rules": [{"for_s": 60, "hysteresis": 100.0, "kind": "threshold", "limit": 1500.0, "metric": "strain_ue", "name": "strain_high", "op": ">", "severity": "major"}, {"for_s": 60, "hysteresis": 10.0, "kind": "threshold", "limit": 100.0, "metric": "deflection_mm", "name": "deflection_high", "op": ">", "severity": "major"}, {"for_s": 60, "hysteresis": 0.05, "kind": "threshold", "limit": 0.5, "metric": "vibration_rms_g", "name": "vibration_high", "op": ">", "severity": "warning"}]}'::jsonb
    WHERE id = 'bridge-monitor' AND detection = '{"rules": [], "regime": null, "relations": []}'::jsonb;
UPDATE device_types SET detection = '{"regime": {"above": 0.5, "driver": "motor_current_a", "duty": 0.5, "settle_s": 3600.0}, "relations": [{"degree": 2, "inputs": ["flow_m3h"], "target": "motor_current_a"}, {"degree": 2, "inputs": ["flow_m3h"], "target": "pressure_bar"}], "rules": [{"for_s": 120, "hysteresis": 3.0, "kind": "threshold", "limit": 85.0, "metric": "bearing_temp_c", "name": "bearing_temp_high", "op": ">", "severity": "major"}, {"for_s": 30, "hysteresis": 3.0, "kind": "threshold", "limit": 95.0, "metric": "bearing_temp_c", "name": "bearing_temp_trip", "op": ">", "severity": "critical"}, {"for_s": 60, "hysteresis": 0.5, "kind": "threshold", "limit": 7.1, "metric": "vibration_rms_mm_s", "name": "vibration_zone_d", "op": ">", "severity": "major"}, {"kind": "rate", "max_per_min": 5.0, "metric": "bearing_temp_c", "name": "bearing_temp_rate", "severity": "warning"}]}'::jsonb
    WHERE id = 'pump-motor' AND detection = '{"rules": [], "regime": null, "relations": []}'::jsonb;
