//! Wire types of accounts, sessions, tokens and the audit trail: what pages show and
//! server functions return. Secrets (hashes, token digests, session keys) never appear.

use crate::types::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who is making the request, as the browser may know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentUser {
    /// Login name, or the token's name for a machine client.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// True for an API token, false for a signed-in person.
    pub is_token: bool,
}

/// An account as the admin's user list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "db", derive(sqlx::FromRow))]
pub struct UserSummary {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Last successful sign-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Sessions currently signed in.
    pub active_sessions: i64,
}

/// One signed-in browser session of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "db", derive(sqlx::FromRow))]
pub struct SessionSummary {
    /// Database id (not the cookie: that never leaves the browser it was set in).
    pub id: i64,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Last request seen (updated at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// Client address at sign-in.
    pub client_addr: Option<String>,
    /// Browser at sign-in.
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "db", derive(sqlx::FromRow))]
pub struct TokenSummary {
    /// Database id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Its first characters.
    pub prefix: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last accepted.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A newly created token: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// The stored token.
    pub token: TokenSummary,
    /// The whole secret, `ms5_…`.
    pub secret: String,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "db", derive(sqlx::FromRow))]
pub struct AuditRecord {
    /// Sequence number (newest is highest).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// `user`, `token`, `system` or `anonymous`.
    pub actor_kind: String,
    /// Who.
    pub actor_name: String,
    /// From where.
    pub client_addr: Option<String>,
    /// What, e.g. `login`, `user.create`.
    pub action: String,
    /// Kind of object.
    pub object_type: Option<String>,
    /// Which object.
    pub object_id: Option<String>,
    /// State before, as JSON text.
    pub before: Option<String>,
    /// State after, as JSON text.
    pub after: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// Context.
    pub detail: Option<String>,
}

/// Filters and paging of the audit trail; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Actor name, case-insensitive, exact.
    pub actor: Option<String>,
    /// Action prefix, e.g. `user.` for every user change.
    pub action: Option<String>,
    /// Object type, e.g. `user`.
    pub object_type: Option<String>,
    /// Object id.
    pub object_id: Option<String>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only entries older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// One page of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Entries, newest first.
    pub records: Vec<AuditRecord>,
    /// How many entries match the filters in all.
    pub total: i64,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next_before: Option<i64>,
    /// Policy changes on this page already reverted: (entry, the entry reverting it).
    #[serde(default)]
    pub reverted: Vec<(i64, i64)>,
}
