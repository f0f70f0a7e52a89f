-- TimescaleDB path: hypertables, compression, continuous aggregates.
-- Retention and the compression age are (re)applied from settings by `servitize migrate`.
SELECT create_hypertable('telemetry', by_range('ts', INTERVAL '1 day'));
SELECT create_hypertable('device_events', by_range('ts', INTERVAL '7 days'));

ALTER TABLE telemetry SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, metric',
    timescaledb.compress_orderby = 'ts DESC'
);

CREATE MATERIALIZED VIEW telemetry_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT device_id, metric, time_bucket(INTERVAL '1 minute', ts) AS bucket,
       min(value) AS min_value, max(value) AS max_value, avg(value) AS avg_value,
       sum(value) AS sum_value, count(*) AS n, last(value, ts) AS last_value
FROM telemetry
WHERE flags = 0
GROUP BY device_id, metric, time_bucket(INTERVAL '1 minute', ts)
WITH NO DATA;

CREATE MATERIALIZED VIEW telemetry_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT device_id, metric, time_bucket(INTERVAL '1 hour', ts) AS bucket,
       min(value) AS min_value, max(value) AS max_value, avg(value) AS avg_value,
       sum(value) AS sum_value, count(*) AS n, last(value, ts) AS last_value
FROM telemetry
WHERE flags = 0
GROUP BY device_id, metric, time_bucket(INTERVAL '1 hour', ts)
WITH NO DATA;

-- Refresh recent buckets often; late data up to the start offset is picked up by the
-- policy, older late data by real-time aggregation until the next manual refresh.
SELECT add_continuous_aggregate_policy('telemetry_1m',
    start_offset => INTERVAL '3 hours', end_offset => INTERVAL '1 minute',
    schedule_interval => INTERVAL '1 minute');
SELECT add_continuous_aggregate_policy('telemetry_1h',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '10 minutes');
