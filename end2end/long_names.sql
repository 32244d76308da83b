-- A hypertable whose schema and table names are PostgreSQL's longest (63 bytes), with
-- chunks, compressed and not, a compression policy and a retention policy: every page
-- that names a table must still fit a phone's width (tests/screens.spec.ts).
-- Run by devdb at its start (serve.sh passes --init).
CREATE SCHEMA IF NOT EXISTS north_plant_line_4_packaging_and_palletising_telemetry_archives;
CREATE TABLE IF NOT EXISTS north_plant_line_4_packaging_and_palletising_telemetry_archives
    .spindle_vibration_and_temperature_readings_with_quality_flags_x (
    ts          timestamptz      NOT NULL,
    spindle_id  int              NOT NULL,
    vibration   double precision NOT NULL,
    temperature double precision NOT NULL
);
SELECT create_hypertable(
    'north_plant_line_4_packaging_and_palletising_telemetry_archives.spindle_vibration_and_temperature_readings_with_quality_flags_x',
    by_range('ts', INTERVAL '1 day'), if_not_exists => true);
INSERT INTO north_plant_line_4_packaging_and_palletising_telemetry_archives
    .spindle_vibration_and_temperature_readings_with_quality_flags_x
SELECT t, s, random() * 4, 40 + random() * 20
  FROM generate_series(now() - INTERVAL '20 days', now(), INTERVAL '30 minutes') AS t
 CROSS JOIN generate_series(1, 4) AS s;
ALTER TABLE north_plant_line_4_packaging_and_palletising_telemetry_archives
    .spindle_vibration_and_temperature_readings_with_quality_flags_x
    SET (timescaledb.compress, timescaledb.compress_segmentby = 'spindle_id');
SELECT compress_chunk(c, if_not_compressed => true)
  FROM show_chunks(
    'north_plant_line_4_packaging_and_palletising_telemetry_archives.spindle_vibration_and_temperature_readings_with_quality_flags_x',
    older_than => INTERVAL '10 days') AS c;
SELECT add_compression_policy(
    'north_plant_line_4_packaging_and_palletising_telemetry_archives.spindle_vibration_and_temperature_readings_with_quality_flags_x',
    INTERVAL '7 days', if_not_exists => true);
SELECT add_retention_policy(
    'north_plant_line_4_packaging_and_palletising_telemetry_archives.spindle_vibration_and_temperature_readings_with_quality_flags_x',
    INTERVAL '60 days', if_not_exists => true);
