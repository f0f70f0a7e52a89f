-- Plain PostgreSQL path: rollup tables kept by the ingest service's rollup job
-- (same columns as the TimescaleDB continuous aggregates), and an index for range scans.
CREATE INDEX telemetry_ts_idx ON telemetry USING brin (ts);
CREATE INDEX device_events_ts_idx ON device_events (ts);

CREATE TABLE telemetry_1m (
    device_id  text NOT NULL,
    metric     text NOT NULL,
    bucket     timestamptz NOT NULL,
    min_value  double precision NOT NULL,
    max_value  double precision NOT NULL,
    avg_value  double precision NOT NULL,
    sum_value  double precision NOT NULL,
    n          bigint NOT NULL,
    last_value double precision NOT NULL,
    PRIMARY KEY (device_id, metric, bucket)
);
CREATE TABLE telemetry_1h (LIKE telemetry_1m INCLUDING ALL);

-- Which ingest batches the rollup job has folded in.
INSERT INTO servitize_meta (key, value) VALUES ('rollup_batch_id', '0');
