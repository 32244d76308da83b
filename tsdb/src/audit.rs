//! The append-only audit trail (`console.audit_log`).

use crate::access_types::{AuditPage, AuditQuery, AuditRecord};
use crate::{Error, Result};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

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
    /// The name the audit trail records for this actor.
    pub fn name(&self) -> &str {
        self.parts().2
    }

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

/// The default and largest audit page sizes.
pub const PAGE_SIZE: i64 = 50;
/// See [`PAGE_SIZE`].
pub const MAX_PAGE_SIZE: i64 = 200;

/// One page of the trail matching `query`, newest first. Every filter is a bound value.
pub async fn search(pool: &PgPool, query: &AuditQuery) -> Result<AuditPage> {
    let limit = query.limit.unwrap_or(PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(Error::Invalid(format!(
            "limit {limit}: expected a whole number from 1 to {MAX_PAGE_SIZE}"
        )));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from >= to {
            return Err(Error::Invalid(format!(
                "from {} must be earlier than to {}",
                from.to_rfc3339(),
                to.to_rfc3339()
            )));
        }
    }
    let blank = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    const FILTER: &str = "($1::text IS NULL OR lower(actor_name) = lower($1))
          AND ($2::text IS NULL OR starts_with(action, $2))
          AND ($3::text IS NULL OR object_type = $3)
          AND ($4::text IS NULL OR object_id = $4)
          AND ($5::timestamptz IS NULL OR at >= $5)
          AND ($6::timestamptz IS NULL OR at < $6)";
    let (actor, action, object_type, object_id) = (
        blank(&query.actor),
        blank(&query.action),
        blank(&query.object_type),
        blank(&query.object_id),
    );
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM console.audit_log WHERE {FILTER}"
    ))
    .bind(&actor)
    .bind(&action)
    .bind(&object_type)
    .bind(&object_id)
    .bind(query.from)
    .bind(query.to)
    .fetch_one(pool)
    .await?;
    let mut records: Vec<AuditRecord> = sqlx::query_as(&format!(
        "SELECT id, at, actor_kind, actor_name, client_addr, action, object_type, object_id,
                jsonb_pretty(before) AS before, jsonb_pretty(after) AS after, outcome, detail
           FROM console.audit_log
          WHERE {FILTER} AND ($7::bigint IS NULL OR id < $7)
          ORDER BY id DESC
          LIMIT $8"
    ))
    .bind(&actor)
    .bind(&action)
    .bind(&object_type)
    .bind(&object_id)
    .bind(query.from)
    .bind(query.to)
    .bind(query.before)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let more = records.len() as i64 > limit;
    records.truncate(limit as usize);
    let next_before = more.then(|| records.last().map(|r| r.id)).flatten();
    Ok(AuditPage {
        records,
        total,
        next_before,
        reverted: Vec::new(),
    })
}
