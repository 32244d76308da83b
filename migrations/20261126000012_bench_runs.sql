-- Finished runs of `ms5-console bench` (from the command line or the admin page): the
-- whole report as JSON, so the page can chart past runs beside the newest.
CREATE TABLE IF NOT EXISTS console.bench_runs (
    id          bigserial   PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    -- "command line", or the console account that started it.
    started_by  text        NOT NULL,
    report      jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS bench_runs_by_start ON console.bench_runs (started_at DESC);
