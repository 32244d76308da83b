-- Console accounts. Passwords are stored only as Argon2id PHC strings (algorithm,
-- parameters and salt inside), so parameters can be raised later and old hashes
-- upgraded at the next login. Usernames are unique regardless of case.
CREATE TABLE IF NOT EXISTS console.users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text        NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$'),
    role           text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash  text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    disabled       boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON console.users (lower(username));
