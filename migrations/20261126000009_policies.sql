-- Data-lifecycle policies the console manages. The desired policy of a hypertable is the
-- configured defaults, overridden by the configuration file, overridden by the edits
-- stored here (each edit is also in the audit trail with its before and after).
CREATE TABLE IF NOT EXISTS console.policy_settings (
    hypertable_schema  text        NOT NULL,
    hypertable_name    text        NOT NULL,
    -- NULL: follow the configuration (patterns and per-table sections); true / false: an
    -- admin said so in the console.
    managed            boolean,
    -- The keys an admin set (tsdb::policy::PolicyOverride as JSON); missing keys follow
    -- the configuration.
    overrides          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         text        NOT NULL,
    PRIMARY KEY (hypertable_schema, hypertable_name)
);

-- One row per apply (at start-up, from the UI, REST or the command line) ...
CREATE TABLE IF NOT EXISTS console.policy_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    trigger      text        NOT NULL CHECK (trigger IN ('startup', 'console', 'api', 'cli', 'revert')),
    actor_name   text        NOT NULL,
    steps        integer     NOT NULL DEFAULT 0,
    failed       integer     NOT NULL DEFAULT 0
);

-- ... and one per step of it: what it meant, the SQL it ran, how it ended.
CREATE TABLE IF NOT EXISTS console.policy_steps (
    run_id       bigint      NOT NULL REFERENCES console.policy_runs (id) ON DELETE CASCADE,
    ordinal      integer     NOT NULL,
    hypertable   text        NOT NULL,
    summary      text        NOT NULL,
    statement    text        NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('applied', 'failed', 'skipped')),
    error        text,
    duration_ms  double precision,
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, ordinal)
);

CREATE INDEX IF NOT EXISTS policy_runs_started_idx ON console.policy_runs (started_at DESC);
