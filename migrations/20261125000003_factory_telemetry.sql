-- The MS5.0 telemetry tables the console looks after, as a real deployment has them.
-- `IF NOT EXISTS` everywhere: pointed at an existing MS5.0 database, this is a no-op.
-- Chunk intervals differ per table on purpose: they follow each table's write rate.
CREATE SCHEMA IF NOT EXISTS factory_telemetry;

-- Raw sensor samples: by far the biggest table (one row per machine, metric and sample).
CREATE TABLE IF NOT EXISTS factory_telemetry.metric_hist (
    ts            timestamptz      NOT NULL,
    equipment_id  text             NOT NULL,
    line_id       text             NOT NULL,
    metric_name   text             NOT NULL,
    value         double precision,
    -- OPC UA quality code: 192 good, 64 uncertain, 0 bad.
    quality       smallint         NOT NULL DEFAULT 192
);

-- Overall equipment effectiveness, computed hourly per machine.
CREATE TABLE IF NOT EXISTS factory_telemetry.oee_calculations (
    calculation_time      timestamptz      NOT NULL,
    line_id               text             NOT NULL,
    equipment_id          text             NOT NULL,
    availability          double precision NOT NULL,
    performance           double precision NOT NULL,
    quality               double precision NOT NULL,
    oee                   double precision NOT NULL,
    planned_time_seconds  integer          NOT NULL,
    good_count            integer          NOT NULL,
    total_count           integer          NOT NULL
);

-- Metered power per machine every 15 minutes.
CREATE TABLE IF NOT EXISTS factory_telemetry.energy_consumption (
    consumption_time  timestamptz      NOT NULL,
    equipment_id      text             NOT NULL,
    line_id           text             NOT NULL,
    power_kw          double precision NOT NULL,
    energy_kwh        double precision NOT NULL,
    power_factor      double precision
);

-- Batch starts and ends, changeovers, material loads.
CREATE TABLE IF NOT EXISTS factory_telemetry.production_events (
    event_time    timestamptz NOT NULL,
    line_id       text        NOT NULL,
    equipment_id  text        NOT NULL,
    event_type    text        NOT NULL,
    product_code  text,
    quantity      integer,
    batch_id      text
);

-- Machine faults with their duration and severity.
CREATE TABLE IF NOT EXISTS factory_telemetry.fault_event (
    start_ts      timestamptz NOT NULL,
    end_ts        timestamptz,
    equipment_id  text        NOT NULL,
    line_id       text        NOT NULL,
    fault_code    text        NOT NULL,
    severity      text        NOT NULL CHECK (severity IN ('minor', 'warning', 'critical')),
    description   text
);

-- The indexes the MS5.0 dashboards query by: one machine's recent history.
CREATE INDEX IF NOT EXISTS metric_hist_equipment_metric_ts_idx
    ON factory_telemetry.metric_hist (equipment_id, metric_name, ts DESC);
CREATE INDEX IF NOT EXISTS oee_calculations_line_time_idx
    ON factory_telemetry.oee_calculations (line_id, calculation_time DESC);
CREATE INDEX IF NOT EXISTS energy_consumption_equipment_time_idx
    ON factory_telemetry.energy_consumption (equipment_id, consumption_time DESC);
CREATE INDEX IF NOT EXISTS production_events_line_time_idx
    ON factory_telemetry.production_events (line_id, event_time DESC);
CREATE INDEX IF NOT EXISTS fault_event_equipment_start_idx
    ON factory_telemetry.fault_event (equipment_id, start_ts DESC);

-- Hypertables, chunk intervals and compression settings where TimescaleDB is installed.
-- The older option names (`timescaledb.compress`) are used because every supported
-- version (2.13 onwards) accepts them; the 2.18 columnstore names are aliases.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    PERFORM create_hypertable('factory_telemetry.metric_hist'::regclass, 'ts'::name,
        chunk_time_interval => interval '1 day', if_not_exists => true, migrate_data => true);
    PERFORM create_hypertable('factory_telemetry.oee_calculations'::regclass, 'calculation_time'::name,
        chunk_time_interval => interval '7 days', if_not_exists => true, migrate_data => true);
    PERFORM create_hypertable('factory_telemetry.energy_consumption'::regclass, 'consumption_time'::name,
        chunk_time_interval => interval '3 days', if_not_exists => true, migrate_data => true);
    PERFORM create_hypertable('factory_telemetry.production_events'::regclass, 'event_time'::name,
        chunk_time_interval => interval '7 days', if_not_exists => true, migrate_data => true);
    PERFORM create_hypertable('factory_telemetry.fault_event'::regclass, 'start_ts'::name,
        chunk_time_interval => interval '30 days', if_not_exists => true, migrate_data => true);

    ALTER TABLE factory_telemetry.metric_hist SET (
        timescaledb.compress,
        timescaledb.compress_segmentby = 'equipment_id, metric_name',
        timescaledb.compress_orderby = 'ts DESC');
    ALTER TABLE factory_telemetry.energy_consumption SET (
        timescaledb.compress,
        timescaledb.compress_segmentby = 'equipment_id',
        timescaledb.compress_orderby = 'consumption_time DESC');
    ALTER TABLE factory_telemetry.oee_calculations SET (
        timescaledb.compress,
        timescaledb.compress_segmentby = 'line_id, equipment_id',
        timescaledb.compress_orderby = 'calculation_time DESC');
END
$$;
