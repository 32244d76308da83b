-- A counter every change to who may do what moves: a role, a disabled account, a new
-- password, an ended session, a revoked or shortened token, a deleted account or token.
-- Console instances cache verified credentials for a few seconds and read this counter
-- every second (the database watch): a change made anywhere (another instance, psql)
-- empties every instance's cache within about a second. Triggers, so no code path and
-- no hand-written SQL can forget to move it.
CREATE TABLE IF NOT EXISTS console.auth_epoch (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    epoch    bigint  NOT NULL DEFAULT 0
);
INSERT INTO console.auth_epoch DEFAULT VALUES ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION console.bump_auth_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE console.auth_epoch SET epoch = epoch + 1;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS users_move_auth_epoch ON console.users;
CREATE TRIGGER users_move_auth_epoch
    AFTER UPDATE OF role, disabled, password_hash OR DELETE ON console.users
    FOR EACH STATEMENT EXECUTE FUNCTION console.bump_auth_epoch();

DROP TRIGGER IF EXISTS user_sessions_move_auth_epoch ON console.user_sessions;
CREATE TRIGGER user_sessions_move_auth_epoch
    AFTER DELETE ON console.user_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION console.bump_auth_epoch();

DROP TRIGGER IF EXISTS api_tokens_move_auth_epoch ON console.api_tokens;
CREATE TRIGGER api_tokens_move_auth_epoch
    AFTER UPDATE OF revoked_at, expires_at, role OR DELETE ON console.api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION console.bump_auth_epoch();
