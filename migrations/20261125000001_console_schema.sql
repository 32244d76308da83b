-- The console keeps everything of its own (users, sessions, audit, policy edits, storage
-- samples) in one schema, never in `public`, so it can share a database with MS5.0
-- without touching the application's tables. The schema itself is created before the
-- migrator runs (its bookkeeping table lives here too); this keeps the migration
-- self-describing when read alone.
CREATE SCHEMA IF NOT EXISTS console;
COMMENT ON SCHEMA console IS 'MS5.0 TimescaleDB Console: its own state. Managed by the console''s migrations.';
