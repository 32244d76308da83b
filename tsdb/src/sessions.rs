//! Who is signed in where (`console.user_sessions`): created at login, read on every
//! request, ended at logout, by the user from another browser, or by an admin's change.
//!
//! The browser's cookie points at a tower-sessions record; that record holds a random
//! key naming a row here. Ending a session deletes the row, so the cookie stops working
//! at its next request wherever it is.

use crate::access_types::SessionSummary;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::users::user::{User, UserRow};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};
use std::time::Duration;

/// `last_seen_at` is written at most this often per session, not on every request.
pub const SEEN_RESOLUTION: Duration = Duration::from_secs(60);

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after signing in, active or not.
    pub absolute: Duration,
}

/// A live session and its (enabled) user.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// `console.user_sessions.id`.
    pub session_id: i64,
    /// The account, as it is now (role changes apply at once).
    pub user: User,
    /// True when this request moved `last_seen_at`: the caller extends the cookie too.
    pub refreshed: bool,
}

/// Records a new session for `user_id` under `key` (64 hex characters).
pub async fn create(
    executor: impl PgExecutor<'_>,
    user_id: i64,
    key: &str,
    client_addr: Option<&str>,
    user_agent: Option<&str>,
) -> Result<i64> {
    // Browsers send long user agents; a few hundred characters identify one well enough.
    let user_agent = user_agent.map(|ua| ua.chars().take(300).collect::<String>());
    let id = sqlx::query_scalar(
        "INSERT INTO console.user_sessions (key, user_id, client_addr, user_agent)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(key)
    .bind(user_id)
    .bind(client_addr)
    .bind(user_agent)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// A live session with its user, as one query reads them.
#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    last_seen_at: DateTime<Utc>,
    #[sqlx(flatten)]
    user: UserRow,
}

/// The live session under `key`, or `None` when it ended, timed out, or its user was
/// disabled. One query reads the session and its user (every request asks this).
pub async fn resolve(pool: &PgPool, key: &str, timeouts: Timeouts) -> Result<Option<Resolved>> {
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.id AS session_id, s.last_seen_at,
                u.id, u.username, u.role, u.disabled, u.password_hash
           FROM console.user_sessions s JOIN console.users u ON u.id = s.user_id
          WHERE s.key = $1
            AND NOT u.disabled
            AND s.last_seen_at > now() - make_interval(secs => $2)
            AND s.created_at > now() - make_interval(secs => $3)",
    )
    .bind(key)
    .bind(timeouts.idle.as_secs_f64())
    .bind(timeouts.absolute.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let session_id = row.session_id;
    let last_seen_at = row.last_seen_at;
    let user = User::from(row.user);
    let stale = Utc::now() - last_seen_at
        > chrono::Duration::from_std(SEEN_RESOLUTION).unwrap_or(chrono::Duration::MAX);
    if stale {
        sqlx::query("UPDATE console.user_sessions SET last_seen_at = now() WHERE id = $1")
            .bind(session_id)
            .execute(pool)
            .await?;
    }
    Ok(Some(Resolved {
        session_id,
        user,
        refreshed: stale,
    }))
}

/// A user's sessions, most recently used first; `current` marks `current_id`.
pub async fn list_for_user(
    pool: &PgPool,
    user_id: i64,
    current_id: Option<i64>,
    timeouts: Timeouts,
) -> Result<Vec<SessionSummary>> {
    let rows: Vec<SessionSummary> = sqlx::query_as(
        "SELECT id, created_at, last_seen_at, client_addr, user_agent,
                id IS NOT DISTINCT FROM $4::bigint AS current
           FROM console.user_sessions
          WHERE user_id = $1
            AND last_seen_at > now() - make_interval(secs => $2)
            AND created_at > now() - make_interval(secs => $3)
          ORDER BY last_seen_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(timeouts.idle.as_secs_f64())
    .bind(timeouts.absolute.as_secs_f64())
    .bind(current_id)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Ends one of `user_id`'s sessions and audits it; `false` when no such session exists.
pub async fn end(
    pool: &PgPool,
    actor: &Actor,
    client_addr: Option<&str>,
    user_id: i64,
    session_id: i64,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let ended = sqlx::query("DELETE FROM console.user_sessions WHERE id = $1 AND user_id = $2")
        .bind(session_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    if ended {
        audit::record(
            &mut *tx,
            &Entry {
                actor,
                client_addr,
                action: "session.end",
                object_type: Some("session"),
                object_id: Some(&session_id.to_string()),
                before: None,
                after: None,
                outcome: Outcome::Success,
                detail: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ended)
}

/// Ends the session under `key` (logout); `false` when it had already ended.
pub async fn end_by_key(executor: impl PgExecutor<'_>, key: &str) -> Result<bool> {
    let ended = sqlx::query("DELETE FROM console.user_sessions WHERE key = $1")
        .bind(key)
        .execute(executor)
        .await?
        .rows_affected();
    Ok(ended > 0)
}

/// Ends every session of `user_id` except the one with id `keep`; returns how many ended.
pub async fn end_all_for_user(
    executor: impl PgExecutor<'_>,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64> {
    let ended = sqlx::query(
        "DELETE FROM console.user_sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2",
    )
    .bind(user_id)
    .bind(keep)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(ended)
}

/// Deletes timed-out sessions and expired session records; returns how many rows went.
///
/// Takes a connection (not a pool) so that it runs on the one holding the janitor's task
/// lock; sqlx's generic `Acquire` would not be provably `Send` inside a spawned task.
pub async fn purge_expired(conn: &mut PgConnection, timeouts: Timeouts) -> Result<u64> {
    let mine = sqlx::query(
        "DELETE FROM console.user_sessions
          WHERE last_seen_at < now() - make_interval(secs => $1)
             OR created_at < now() - make_interval(secs => $2)",
    )
    .bind(timeouts.idle.as_secs_f64())
    .bind(timeouts.absolute.as_secs_f64())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let records = sqlx::query("DELETE FROM console.sessions WHERE expiry_date < now()")
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(mine + records)
}
