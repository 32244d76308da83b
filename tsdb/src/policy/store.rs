//! The console's policy edits (`console.policy_settings`), each saved in the same
//! transaction as its audit entry (before and after), and reverted from that entry.

use super::desired::StoredPolicy;
use super::HypertableName;
pub use super::PolicyEdit;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgExecutor, PgPool};

#[derive(sqlx::FromRow)]
struct Row {
    hypertable_schema: String,
    hypertable_name: String,
    managed: Option<bool>,
    overrides: String,
    updated_at: DateTime<Utc>,
    updated_by: String,
}

impl Row {
    fn into_stored(self) -> Result<StoredPolicy> {
        let overrides = serde_json::from_str(&self.overrides).map_err(|e| {
            Error::Unexpected(format!(
                "stored policy of {}.{} is unreadable: {e}",
                self.hypertable_schema, self.hypertable_name
            ))
        })?;
        Ok(StoredPolicy {
            name: HypertableName::new(self.hypertable_schema, self.hypertable_name),
            managed: self.managed,
            overrides,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

/// Every stored edit.
pub async fn load(executor: impl PgExecutor<'_>) -> Result<Vec<StoredPolicy>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT hypertable_schema, hypertable_name, managed, overrides::text AS overrides,
                updated_at, updated_by
           FROM console.policy_settings ORDER BY 1, 2",
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(Row::into_stored).collect()
}

fn edit_json(edit: &PolicyEdit) -> serde_json::Value {
    json!({"managed": edit.managed, "overrides": edit.overrides})
}

/// Saves `edit` for `name` and audits it (`policy.edit`, or `policy.revert` of entry
/// `revert_of`) with before and after; returns the audit entry's id.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    client_addr: Option<&str>,
    name: &HypertableName,
    edit: &PolicyEdit,
    revert_of: Option<i64>,
) -> Result<i64> {
    let mut tx = pool.begin().await?;
    // Serialises concurrent edits of one table (and takes the row if it exists).
    let before: Option<Row> = sqlx::query_as(
        "SELECT hypertable_schema, hypertable_name, managed, overrides::text AS overrides,
                updated_at, updated_by
           FROM console.policy_settings
          WHERE hypertable_schema = $1 AND hypertable_name = $2
          FOR UPDATE",
    )
    .bind(&name.schema)
    .bind(&name.table)
    .fetch_optional(&mut *tx)
    .await?;
    let before = before
        .map(Row::into_stored)
        .transpose()?
        .map(|stored| PolicyEdit {
            managed: stored.managed,
            overrides: stored.overrides,
        })
        .unwrap_or_default();
    let overrides = serde_json::to_string(&edit.overrides)
        .map_err(|e| Error::Unexpected(format!("policy edit not serializable: {e}")))?;
    sqlx::query(
        "INSERT INTO console.policy_settings
                (hypertable_schema, hypertable_name, managed, overrides, updated_at, updated_by)
         VALUES ($1, $2, $3, $4::jsonb, now(), $5)
         ON CONFLICT (hypertable_schema, hypertable_name) DO UPDATE
            SET managed = EXCLUDED.managed, overrides = EXCLUDED.overrides,
                updated_at = now(), updated_by = EXCLUDED.updated_by",
    )
    .bind(&name.schema)
    .bind(&name.table)
    .bind(edit.managed)
    .bind(overrides)
    .bind(actor.name())
    .execute(&mut *tx)
    .await?;
    let detail = revert_of.map(|id| format!("revert of audit entry {id}"));
    let id = audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: if revert_of.is_some() {
                "policy.revert"
            } else {
                "policy.edit"
            },
            object_type: Some("hypertable"),
            object_id: Some(&name.to_string()),
            before: Some(edit_json(&before)),
            after: Some(edit_json(edit)),
            outcome: Outcome::Success,
            detail: detail.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The edit an audit entry recorded before its change, and the table it was for: what
/// reverting entry `audit_id` saves.
pub async fn before_of(pool: &PgPool, audit_id: i64) -> Result<(HypertableName, PolicyEdit)> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT action, object_id, before::text FROM console.audit_log WHERE id = $1",
    )
    .bind(audit_id)
    .fetch_optional(pool)
    .await?;
    let Some((action, object_id, before)) = row else {
        return Err(Error::NotFound(format!("no audit entry {audit_id}")));
    };
    if action != "policy.edit" && action != "policy.revert" {
        return Err(Error::Invalid(format!(
            "audit entry {audit_id} is a {action}: only policy changes can be reverted"
        )));
    }
    let name: HypertableName = object_id
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e| Error::Unexpected(format!("audit entry {audit_id} names no table: {e}")))?;
    let before: serde_json::Value = before
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default();
    let edit = PolicyEdit {
        managed: before.get("managed").and_then(|m| m.as_bool()),
        overrides: before
            .get("overrides")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| Error::Unexpected(format!("audit entry {audit_id}: {e}")))?
            .unwrap_or_default(),
    };
    Ok((name, edit))
}
