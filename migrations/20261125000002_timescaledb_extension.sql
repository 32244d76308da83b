-- Install TimescaleDB where the server offers it. A server without the extension is still
-- served (the console reports the extension as missing instead of refusing to start), so
-- this migration must succeed there too.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    ELSE
        RAISE NOTICE 'timescaledb is not available on this server: demo tables stay plain tables';
    END IF;
END
$$;
