-- A third alert kind: a compression job whose last run succeeded but left chunks past
-- compress-after uncompressed (TimescaleDB 2.27 and later count such a run as a success).
ALTER TABLE console.alerts DROP CONSTRAINT IF EXISTS alerts_kind_check;
ALTER TABLE console.alerts
    ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('failing', 'stale', 'partly_failing'));
