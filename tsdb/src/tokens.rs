//! API tokens (`console.api_tokens`): stored as SHA-256 digests only. Generating the
//! secret and hashing it is the caller's job; this module stores, finds and revokes.

use crate::audit::{self, Actor, Entry, Outcome};
use crate::types::Role;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

/// A token as listed (never its secret); the same type crosses the wire.
pub type ApiToken = crate::access_types::TokenSummary;

/// What a new token is made of.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// What it is for.
    pub name: &'a str,
    /// What it may do.
    pub role: Role,
    /// Its first characters, for recognition.
    pub prefix: &'a str,
    /// SHA-256 of the whole token.
    pub sha256: [u8; 32],
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The user creating it, if any.
    pub created_by: Option<i64>,
}

const COLUMNS: &str = "id, name, role, prefix, expires_at, revoked_at, last_used_at";

/// Stores a token and audits its creation, in one transaction.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    client_addr: Option<&str>,
    new: NewToken<'_>,
) -> Result<ApiToken> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "token name {name:?}: expected 1 to 100 characters, without control characters"
        )));
    }
    if new.expires_at <= Utc::now() {
        return Err(Error::Invalid(format!(
            "expiry {}: expected a time in the future",
            new.expires_at.to_rfc3339()
        )));
    }
    let mut tx = pool.begin().await?;
    let token: ApiToken = sqlx::query_as(&format!(
        "INSERT INTO console.api_tokens (name, role, prefix, token_sha256, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(new.role.as_str())
    .bind(new.prefix)
    .bind(&new.sha256[..])
    .bind(new.created_by)
    .bind(new.expires_at)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: "token.create",
            object_type: Some("api_token"),
            object_id: Some(&token.id.to_string()),
            before: None,
            after: Some(json!({
                "name": token.name,
                "role": token.role,
                "prefix": token.prefix,
                "expires_at": token.expires_at,
            })),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The active (unexpired, unrevoked) token with this digest, recording its use.
pub async fn authenticate(pool: &PgPool, sha256: &[u8; 32]) -> Result<Option<ApiToken>> {
    let token: Option<ApiToken> = sqlx::query_as(&format!(
        "UPDATE console.api_tokens SET last_used_at = now()
          WHERE token_sha256 = $1 AND revoked_at IS NULL AND expires_at > now()
          RETURNING {COLUMNS}"
    ))
    .bind(&sha256[..])
    .fetch_optional(pool)
    .await?;
    Ok(token)
}

/// Revokes a token (idempotent) and audits it, in one transaction. `false` when no
/// such token exists.
pub async fn revoke(
    pool: &PgPool,
    actor: &Actor,
    client_addr: Option<&str>,
    id: i64,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let before: Option<ApiToken> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console.api_tokens WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(before) = before else {
        return Ok(false);
    };
    sqlx::query(
        "UPDATE console.api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: "token.revoke",
            object_type: Some("api_token"),
            object_id: Some(&id.to_string()),
            before: Some(json!({"name": before.name, "revoked_at": before.revoked_at})),
            after: Some(json!({"name": before.name, "revoked": true})),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Every token, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<ApiToken>> {
    let tokens: Vec<ApiToken> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console.api_tokens ORDER BY id DESC"
    ))
    .fetch_all(pool)
    .await?;
    Ok(tokens)
}
