-- Browser sessions, shared by every console instance behind a load balancer.
--
-- console.sessions is tower-sessions' store (the cookie's id, the encoded session record,
-- its expiry). console.user_sessions is the console's own view of who is signed in where:
-- listing and ending one's sessions, idle and absolute time-outs, and role or password
-- changes taking effect at the next request all read it. A tower session points at its
-- row through a random key kept in the session record; deleting the row signs the
-- session out even though its cookie lives on.
CREATE TABLE IF NOT EXISTS console.sessions (
    id           text        PRIMARY KEY,
    data         bytea       NOT NULL,
    expiry_date  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON console.sessions (expiry_date);

CREATE TABLE IF NOT EXISTS console.user_sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           text        NOT NULL UNIQUE CHECK (length(key) = 64),
    user_id       bigint      NOT NULL REFERENCES console.users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    client_addr   text,
    user_agent    text
);
CREATE INDEX IF NOT EXISTS user_sessions_user_idx ON console.user_sessions (user_id);

-- Failed sign-ins per account name and per client address, for exponential back-off.
-- Kept in the database so that every instance sees the same counts.
CREATE TABLE IF NOT EXISTS console.login_throttle (
    scope            text        NOT NULL CHECK (scope IN ('account', 'address')),
    key              text        NOT NULL,
    failures         integer     NOT NULL,
    last_failure_at  timestamptz NOT NULL,
    blocked_until    timestamptz,
    PRIMARY KEY (scope, key)
);

ALTER TABLE console.users ADD COLUMN IF NOT EXISTS last_login_at timestamptz;
