-- Effective online/offline per device, from the status topic (Last Will) and from inactivity.
-- A device counts as silent after 3 reporting intervals without a message: two missed reports
-- are normal radio weather, a third is not.
CREATE VIEW device_presence AS
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
           WHEN s.last_seen_at < now() - 3 * make_interval(secs => t.reporting_interval_s)
               THEN 'silent'
           ELSE 'online'
       END AS presence
FROM devices d
JOIN device_types t ON t.id = d.device_type_id
LEFT JOIN device_status s ON s.device_id = d.id;
