-- Storage history: what each hypertable, continuous aggregate and the whole database held
-- at each sample. A hypertable of the console's own where TimescaleDB is installed, so its
-- compression and retention are policies like any other table's (the console manages them
-- itself; see `tsdb::storage::history::own_policy`).
CREATE TABLE IF NOT EXISTS console.storage_samples (
    sampled_at               timestamptz NOT NULL,
    -- 'hypertable', 'continuous_aggregate' or 'database'.
    kind                     text        NOT NULL
        CHECK (kind IN ('hypertable', 'continuous_aggregate', 'database')),
    -- `schema.name`, or the database's name.
    relation                 text        NOT NULL,
    total_bytes              bigint      NOT NULL,
    -- Bytes of compressed chunks (after compression) and of the rest.
    compressed_bytes         bigint      NOT NULL DEFAULT 0,
    uncompressed_bytes       bigint      NOT NULL DEFAULT 0,
    -- What the compressed chunks held before compression.
    before_compression_bytes bigint      NOT NULL DEFAULT 0,
    chunk_count              integer     NOT NULL DEFAULT 0,
    compressed_chunk_count   integer     NOT NULL DEFAULT 0,
    approximate_rows         bigint      NOT NULL DEFAULT 0,
    -- Reconstructed from the chunks (the demo's back-fill), not measured.
    generated                boolean     NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS storage_samples_by_relation
    ON console.storage_samples (relation, sampled_at DESC);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    PERFORM create_hypertable('console.storage_samples'::regclass, 'sampled_at'::name,
        chunk_time_interval => interval '30 days', if_not_exists => true, migrate_data => true);
    ALTER TABLE console.storage_samples SET (
        timescaledb.compress,
        timescaledb.compress_segmentby = 'relation',
        timescaledb.compress_orderby = 'sampled_at DESC');
END
$$;
