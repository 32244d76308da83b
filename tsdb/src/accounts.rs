//! Console accounts (`console.users`). This module stores and reads them; hashing
//! passwords is the caller's job, so no secret ever reaches SQL in the clear.

use crate::audit::{self, Actor, Entry, Outcome};
use crate::types::Role;
use crate::{Error, Result};
use serde_json::json;
use sqlx::{PgExecutor, PgPool};

/// An account as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Login name (unique regardless of case).
    pub username: String,
    /// What the account may do.
    pub role: Role,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// Argon2id PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for User {
    // The hash stays out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

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

/// Checks a username against the accepted form; the message names it.
pub fn validate_username(username: &str) -> Result<()> {
    let mut chars = username.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if first_ok && rest_ok && username.len() <= 63 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "username {username:?}: expected 1 to 63 letters, digits or . _ @ -, starting with a letter or digit"
        )))
    }
}

type UserRow = (i64, String, String, bool, String);

fn from_row((id, username, role, disabled, password_hash): UserRow) -> Result<User> {
    let role = role
        .parse()
        .map_err(|_| Error::Unexpected(format!("unknown role {role:?} for user {id}")))?;
    Ok(User {
        id,
        username,
        role,
        disabled,
        password_hash,
    })
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
    let user = from_row(row)?;
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
    row.map(from_row).transpose()
}
