-- Builds the catalog of a large deployment for load runs (issue #14): :tables hypertables
-- of 100 one-hour chunks each (one row per chunk), the older half compressed, in schema
-- `many` — the shape `make bench-catalog` measures. 500 tables = 50,000 chunks.
-- Usage: psql -v tables=500 -d URL -f end2end/many_chunks.sql
\set ON_ERROR_STOP on
-- TimescaleDB warns of every one-row chunk's poor compression ratio: 25,000 warnings.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE SCHEMA IF NOT EXISTS many;
SELECT set_config('many.tables', :'tables', false);
DO $$
DECLARE
    t int;
BEGIN
    FOR t IN 1..current_setting('many.tables')::int LOOP
        EXECUTE format('CREATE TABLE many.t%s (ts timestamptz NOT NULL, device int NOT NULL, v double precision)', t);
        PERFORM create_hypertable(format('many.t%s', t)::regclass, by_range('ts'::name, interval '1 hour'));
        EXECUTE format('INSERT INTO many.t%s SELECT now() - make_interval(hours => h), h %% 4, random()
                          FROM generate_series(1, 100) AS h', t);
        EXECUTE format('ALTER TABLE many.t%s SET (timescaledb.compress, timescaledb.compress_segmentby = ''device'')', t);
        PERFORM compress_chunk(c) FROM show_chunks(format('many.t%s', t)::regclass,
                                                   older_than => now() - interval '50 hours') AS c;
        -- One transaction per table: a hundred chunks' locks at a time, not thousands.
        COMMIT;
    END LOOP;
END
$$;
SELECT count(*) AS chunks, count(*) FILTER (WHERE is_compressed) AS compressed
  FROM timescaledb_information.chunks WHERE hypertable_schema = 'many';
