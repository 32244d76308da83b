-- The audit trail: who did what, when, from where, to what, before and after, and how it
-- ended. Append-only by construction: the database itself refuses UPDATE, DELETE and
-- TRUNCATE, so no bug (and no careless admin with psql access through the console's
-- role) can rewrite history. Rows are written in the same transaction as the change
-- they describe.
CREATE TABLE IF NOT EXISTS console.audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    -- 'user', 'token', 'system' (start-up work) or 'anonymous' (failed logins).
    actor_kind   text        NOT NULL CHECK (actor_kind IN ('user', 'token', 'system', 'anonymous')),
    actor_id     bigint,
    actor_name   text        NOT NULL,
    client_addr  text,
    action       text        NOT NULL,
    object_type  text,
    object_id    text,
    before       jsonb,
    after        jsonb,
    outcome      text        NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    detail       text
);

CREATE INDEX IF NOT EXISTS audit_log_at_idx ON console.audit_log (at DESC);
CREATE INDEX IF NOT EXISTS audit_log_actor_idx ON console.audit_log (actor_name, at DESC);
CREATE INDEX IF NOT EXISTS audit_log_action_idx ON console.audit_log (action, at DESC);

CREATE OR REPLACE FUNCTION console.audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'console.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS audit_log_no_update_or_delete ON console.audit_log;
CREATE TRIGGER audit_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON console.audit_log
    FOR EACH ROW EXECUTE FUNCTION console.audit_log_is_append_only();

DROP TRIGGER IF EXISTS audit_log_no_truncate ON console.audit_log;
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON console.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION console.audit_log_is_append_only();
