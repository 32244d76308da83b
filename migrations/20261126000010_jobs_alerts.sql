-- Runs of TimescaleDB jobs started from the console ("run now"). TimescaleDB's job
-- statistics leave manual runs out, so the console records them itself: the row is
-- written when the run starts (committed), and finished with its outcome.
CREATE TABLE IF NOT EXISTS console.job_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       integer     NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    succeeded    boolean,
    sqlstate     text,
    message      text,
    actor_name   text        NOT NULL
);
CREATE INDEX IF NOT EXISTS job_runs_by_job ON console.job_runs (job_id, started_at DESC);

-- Jobs that need a person: raised when the watcher first sees the condition, cleared when
-- it ends. At most one open alert per job and kind.
CREATE TABLE IF NOT EXISTS console.alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id           integer     NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('failing', 'stale')),
    job_kind         text        NOT NULL,
    hypertable       text,
    message          text        NOT NULL,
    raised_at        timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_notified_at timestamptz,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    cleared_at       timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open ON console.alerts (job_id, kind) WHERE cleared_at IS NULL;
CREATE INDEX IF NOT EXISTS alerts_by_time ON console.alerts (raised_at DESC);

-- The webhook outbox: a message per raise, reminder and recovery, delivered in order per
-- alert, retried with back-off until delivered or abandoned.
CREATE TABLE IF NOT EXISTS console.alert_notifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id         bigint      NOT NULL REFERENCES console.alerts (id),
    event            text        NOT NULL CHECK (event IN ('raised', 'reminder', 'resolved')),
    payload          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    abandoned_at     timestamptz,
    last_error       text
);
CREATE INDEX IF NOT EXISTS alert_notifications_pending ON console.alert_notifications (next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
