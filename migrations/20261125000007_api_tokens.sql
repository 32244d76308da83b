-- API tokens for machine clients (monitoring scrapers, scripts). Only a SHA-256 digest of
-- each token is stored: the token itself is shown once, at creation. Tokens carry a role
-- like users do, always expire, and can be revoked; their last use is recorded.
CREATE TABLE IF NOT EXISTS console.api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role          text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    -- The token's first characters, to recognise it in lists and logs.
    prefix        text        NOT NULL,
    token_sha256  bytea       NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    created_by    bigint      REFERENCES console.users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    CHECK (expires_at > created_at)
);
