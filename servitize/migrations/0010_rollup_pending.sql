-- Which committed ingest batches are not yet folded into the 1 min / 1 h rollups (plain path)
-- or refreshed into the continuous aggregates (TimescaleDB). A flag per batch instead of a
-- batch-id checkpoint: ids are taken at insert, not at commit, so a checkpoint could skip a
-- batch that committed late; a flag cannot. The ingest upkeep job clears it after the batch's
-- time range is rolled up; the API reads raw rows from the oldest pending batch on.
ALTER TABLE ingest_batches ADD COLUMN rolled_up boolean NOT NULL DEFAULT false;
UPDATE ingest_batches SET rolled_up = true
WHERE min_ts IS NULL
   OR id <= (SELECT value::bigint FROM servitize_meta WHERE key = 'rollup_batch_id');
CREATE INDEX ingest_batches_pending_idx ON ingest_batches (id) WHERE NOT rolled_up;
DELETE FROM servitize_meta WHERE key = 'rollup_batch_id';
