-- Hourly rollup of the metric history, as MS5.0's trend screens read it, refreshed by a
-- TimescaleDB policy. Created `WITH NO DATA` (allowed inside the migration's transaction);
-- the first materialisation happens through the policy or the demo loader.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    EXECUTE $view$
        CREATE MATERIALIZED VIEW IF NOT EXISTS factory_telemetry.metric_hist_hourly
        WITH (timescaledb.continuous) AS
        SELECT time_bucket(interval '1 hour', ts) AS bucket,
               equipment_id,
               metric_name,
               avg(value)  AS avg_value,
               min(value)  AS min_value,
               max(value)  AS max_value,
               count(*)    AS samples
          FROM factory_telemetry.metric_hist
         GROUP BY bucket, equipment_id, metric_name
        WITH NO DATA
    $view$;
    PERFORM add_continuous_aggregate_policy('factory_telemetry.metric_hist_hourly'::regclass,
        start_offset => interval '3 days',
        end_offset => interval '1 hour',
        schedule_interval => interval '1 hour',
        if_not_exists => true);
END
$$;
