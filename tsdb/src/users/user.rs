//! The stored account: a leaf that sessions and accounts both read, so neither needs
//! the other to know what a user is.

use crate::types::Role;

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

/// A `console.users` row as read.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) role: Role,
    pub(crate) disabled: bool,
    pub(crate) password_hash: String,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: row.id,
            username: row.username,
            role: row.role,
            disabled: row.disabled,
            password_hash: row.password_hash,
        }
    }
}
