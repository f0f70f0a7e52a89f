-- What each series' detector learnt in its warm-up, so a restarted detector does not need
-- another week of readings before it judges again.
CREATE TABLE detector_series_state (
    device_id   text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    metric      text NOT NULL,
    limits      jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, metric)
);
