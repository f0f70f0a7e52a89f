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
