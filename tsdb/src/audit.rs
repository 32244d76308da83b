//! The append-only audit trail (`console.audit_log`).

use crate::Result;
use serde_json::Value;
use sqlx::PgExecutor;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user.
    User {
        /// `console.users.id`.
        id: i64,
        /// The username at the time.
        name: String,
    },
    /// A machine client's API token.
    Token {
        /// `console.api_tokens.id`.
        id: i64,
        /// The token's name.
        name: String,
    },
    /// The console itself (start-up work, background tasks).
    System,
    /// Nobody identified (failed logins record the name that was tried).
    Anonymous {
        /// The name that was given, if any.
        name: String,
    },
}

impl Actor {
    fn parts(&self) -> (&'static str, Option<i64>, &str) {
        match self {
            Actor::User { id, name } => ("user", Some(*id), name),
            Actor::Token { id, name } => ("token", Some(*id), name),
            Actor::System => ("system", None, "console"),
            Actor::Anonymous { name } => ("anonymous", None, name),
        }
    }
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Success,
    /// Attempted and failed.
    Failure,
    /// Refused for lack of rights.
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// One audit entry to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// From where (client address), if known.
    pub client_addr: Option<&'a str>,
    /// What, e.g. `user.create`, `login`.
    pub action: &'a str,
    /// On what kind of object, e.g. `user`.
    pub object_type: Option<&'a str>,
    /// Which object.
    pub object_id: Option<&'a str>,
    /// State before the change.
    pub before: Option<Value>,
    /// State after the change.
    pub after: Option<Value>,
    /// How it ended.
    pub outcome: Outcome,
    /// A sentence of context (never a secret).
    pub detail: Option<&'a str>,
}

/// Appends `entry`; pass the transaction of the change it describes.
pub async fn record(executor: impl PgExecutor<'_>, entry: &Entry<'_>) -> Result<i64> {
    let (kind, actor_id, actor_name) = entry.actor.parts();
    let id = sqlx::query_scalar(
        "INSERT INTO console.audit_log
                (actor_kind, actor_id, actor_name, client_addr, action, object_type, object_id,
                 before, after, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING id",
    )
    .bind(kind)
    .bind(actor_id)
    .bind(actor_name)
    .bind(entry.client_addr)
    .bind(entry.action)
    .bind(entry.object_type)
    .bind(entry.object_id)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(entry.outcome.as_str())
    .bind(entry.detail)
    .fetch_one(executor)
    .await?;
    Ok(id)
}
