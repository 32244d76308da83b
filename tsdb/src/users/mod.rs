//! Console accounts (`console.users`). This module stores and reads them; hashing
//! passwords is the caller's job, so no secret ever reaches SQL in the clear.

pub(crate) mod user;

pub use user::User;
use user::UserRow;

use crate::access_types::UserSummary;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::sessions;
use crate::types::Role;
use crate::{Error, Result};
use serde_json::json;
use sqlx::{PgConnection, PgExecutor, PgPool};

/// What a new account is made of.
#[derive(Clone)]
pub struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// Role.
    pub role: Role,
    /// Argon2id PHC string of the password.
    pub password_hash: &'a str,
}

/// The longest username an account can have (bytes; usernames are ASCII).
pub const MAX_USERNAME: usize = 63;

/// Checks a username against the accepted form; the message names it.
pub fn validate_username(username: &str) -> Result<()> {
    let mut chars = username.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if first_ok && rest_ok && username.len() <= MAX_USERNAME {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "username {username:?}: expected 1 to 63 letters, digits or . _ @ -, starting with a letter or digit"
        )))
    }
}

/// Creates an account and records it in the audit trail, in one transaction.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    client_addr: Option<&str>,
    new: NewUser<'_>,
) -> Result<User> {
    validate_username(new.username)?;
    let mut tx = pool.begin().await?;
    let row: UserRow = sqlx::query_as(
        "INSERT INTO console.users (username, role, password_hash) VALUES ($1, $2, $3)
         RETURNING id, username, role, disabled, password_hash",
    )
    .bind(new.username)
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            Error::Conflict(format!("a user named {:?} already exists", new.username))
        }
        _ => Error::Database(error),
    })?;
    let user = User::from(row);
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: "user.create",
            object_type: Some("user"),
            object_id: Some(&user.id.to_string()),
            before: None,
            after: Some(json!({
                "username": user.username,
                "role": user.role,
                "disabled": user.disabled,
            })),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Finds an account by login name, regardless of case.
pub async fn find_by_username(
    executor: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, username, role, disabled, password_hash FROM console.users
          WHERE lower(username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(User::from))
}

/// Finds an account by id.
pub async fn find_by_id(executor: impl PgExecutor<'_>, id: i64) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, username, role, disabled, password_hash FROM console.users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(User::from))
}

/// Every account with its last sign-in and live session count, by name.
pub async fn list(pool: &PgPool, idle: std::time::Duration) -> Result<Vec<UserSummary>> {
    let rows: Vec<UserSummary> = sqlx::query_as(
        "SELECT u.id, u.username, u.role, u.disabled, u.created_at, u.last_login_at,
                (SELECT count(*) FROM console.user_sessions s
                  WHERE s.user_id = u.id
                    AND s.last_seen_at > now() - make_interval(secs => $1)) AS active_sessions
           FROM console.users u
          ORDER BY lower(u.username)",
    )
    .bind(idle.as_secs_f64())
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// A change an admin makes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    /// New role.
    pub role: Option<Role>,
    /// Disable (true) or enable (false).
    pub disabled: Option<bool>,
}

fn snapshot(user: &User) -> serde_json::Value {
    json!({"username": user.username, "role": user.role, "disabled": user.disabled})
}

/// Locks the account row for the rest of the transaction.
async fn lock(conn: &mut PgConnection, id: i64) -> Result<User> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, username, role, disabled, password_hash FROM console.users
          WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(User::from)
        .ok_or_else(|| Error::NotFound(format!("no user with id {id}")))
}

/// Changes an account's role or enabled state, audited in the same transaction. Refuses
/// to leave the console without an enabled admin; disabling ends the account's sessions.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    client_addr: Option<&str>,
    id: i64,
    change: Change,
) -> Result<User> {
    let mut tx = pool.begin().await?;
    // Serialise admin-count checks: two admins demoting each other at once must not
    // both succeed.
    sqlx::query("LOCK TABLE console.users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let before = lock(&mut tx, id).await?;
    let after = User {
        role: change.role.unwrap_or(before.role),
        disabled: change.disabled.unwrap_or(before.disabled),
        ..before.clone()
    };
    let was_active_admin = before.role == Role::Admin && !before.disabled;
    let stays_active_admin = after.role == Role::Admin && !after.disabled;
    if was_active_admin && !stays_active_admin {
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM console.users
              WHERE role = 'admin' AND NOT disabled AND id <> $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if others == 0 {
            return Err(Error::Conflict(format!(
                "{} is the last enabled admin: make another user admin first",
                before.username
            )));
        }
    }
    sqlx::query(
        "UPDATE console.users SET role = $2, disabled = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(after.role.as_str())
    .bind(after.disabled)
    .execute(&mut *tx)
    .await?;
    if after.disabled && !before.disabled {
        sessions::end_all_for_user(&mut *tx, id, None).await?;
    }
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: "user.update",
            object_type: Some("user"),
            object_id: Some(&id.to_string()),
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Why a password is being set, which decides the audit action and which sessions end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    /// The user changed their own password: their other sessions end, this one stays.
    Own {
        /// The session making the change.
        keep_session: Option<i64>,
    },
    /// An admin reset it: every session of the account ends.
    Reset,
}

/// Stores a new password hash, ends sessions as `reason` says, and audits it.
pub async fn set_password(
    pool: &PgPool,
    actor: &Actor,
    client_addr: Option<&str>,
    id: i64,
    password_hash: &str,
    reason: PasswordChange,
) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let user = lock(&mut tx, id).await?;
    sqlx::query("UPDATE console.users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    let (action, keep) = match reason {
        PasswordChange::Own { keep_session } => ("user.password_change", keep_session),
        PasswordChange::Reset => ("user.password_reset", None),
    };
    let ended = sessions::end_all_for_user(&mut *tx, id, keep).await?;
    let detail = format!("{ended} other session(s) signed out");
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action,
            object_type: Some("user"),
            object_id: Some(&id.to_string()),
            before: None,
            after: Some(json!({"username": user.username})),
            outcome: Outcome::Success,
            detail: Some(&detail),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// Records a successful sign-in time and, when given, an upgraded password hash.
pub async fn record_login(
    executor: impl PgExecutor<'_>,
    id: i64,
    upgraded_hash: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE console.users
            SET last_login_at = now(), password_hash = COALESCE($2, password_hash)
          WHERE id = $1",
    )
    .bind(id)
    .bind(upgraded_hash)
    .execute(executor)
    .await?;
    Ok(())
}
