//! The console's policy edits (`console.policy_settings`), each saved in the same
//! transaction as its audit entry. The entry records the edit before and after, the
//! relation as a pair (schema, name) and the live state before the change: a revert plans
//! the way back to that live state, not only to the saved setting.

use super::desired::{ObjectKind, StoredPolicy};
use super::live::{LiveRefresh, LiveState, LiveTable};
use super::HypertableName;
pub use super::PolicyEdit;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Connection, PgConnection, PgExecutor, PgPool};

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
        let name = HypertableName::new(self.hypertable_schema, self.hypertable_name);
        let overrides = serde_json::from_str(&self.overrides).map_err(|e| {
            Error::Unexpected(format!("stored policy of {name} is unreadable: {e}"))
        })?;
        Ok(StoredPolicy {
            name,
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

/// A relation's live state as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedLive {
    /// Its compression, retention, chunk interval and settings.
    pub table: LiveTable,
    /// An aggregate's refresh policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Vec<LiveRefresh>>,
}

impl RecordedLive {
    /// `name`'s state in `live`, if it is there.
    pub fn of(live: &LiveState, name: &HypertableName) -> Option<RecordedLive> {
        if let Some(cagg) = live.cagg(name) {
            return Some(RecordedLive {
                table: cagg.policies.clone(),
                refresh: Some(cagg.refresh.clone()),
            });
        }
        live.table(name).map(|table| RecordedLive {
            table: table.clone(),
            refresh: None,
        })
    }
}

/// What a save records besides the edit.
#[derive(Debug, Clone, Default)]
pub struct SaveContext<'a> {
    /// Hypertable or aggregate.
    pub kind: ObjectKind,
    /// The live state before the change.
    pub live_before: Option<&'a RecordedLive>,
    /// The keys filled from live when the relation was taken under management.
    pub adopted: Vec<&'static str>,
    /// The audit entry this save reverts.
    pub revert_of: Option<i64>,
}

fn edit_json(edit: &PolicyEdit) -> serde_json::Value {
    json!({"managed": edit.managed, "overrides": edit.overrides})
}

/// The edit stored for `name` now (an empty one when none is).
pub async fn current(executor: impl PgExecutor<'_>, name: &HypertableName) -> Result<PolicyEdit> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT hypertable_schema, hypertable_name, managed, overrides::text AS overrides,
                updated_at, updated_by
           FROM console.policy_settings
          WHERE hypertable_schema = $1 AND hypertable_name = $2",
    )
    .bind(&name.schema)
    .bind(&name.table)
    .fetch_optional(executor)
    .await?;
    Ok(row
        .map(Row::into_stored)
        .transpose()?
        .map(|stored| PolicyEdit {
            managed: stored.managed,
            overrides: stored.overrides,
        })
        .unwrap_or_default())
}

/// Saves `edit` for `name` and audits it (`policy.edit`, or `policy.revert` of an entry)
/// with before and after, the relation's name as a pair and its live state before the
/// change; returns the audit entry's id.
pub async fn save(
    conn: &mut PgConnection,
    actor: &Actor,
    client_addr: Option<&str>,
    name: &HypertableName,
    edit: &PolicyEdit,
    context: &SaveContext<'_>,
) -> Result<i64> {
    let mut tx = conn.begin().await?;
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
    let mut before_json = edit_json(&before);
    before_json["relation"] =
        json!({"schema": name.schema, "name": name.table, "kind": context.kind});
    if let Some(live) = context.live_before {
        before_json["live"] = serde_json::to_value(live)
            .map_err(|e| Error::Unexpected(format!("live state not serializable: {e}")))?;
    }
    let mut after_json = edit_json(edit);
    if !context.adopted.is_empty() {
        after_json["adopted_from_live"] = json!(context.adopted);
    }
    if let Some(id) = context.revert_of {
        after_json["revert_of"] = json!(id);
    }
    let detail = context
        .revert_of
        .map(|id| format!("revert of audit entry {id}"));
    let id = audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: if context.revert_of.is_some() {
                "policy.revert"
            } else {
                "policy.edit"
            },
            object_type: Some(context.kind.word()),
            object_id: Some(&name.to_string()),
            before: Some(before_json),
            after: Some(after_json),
            outcome: Outcome::Success,
            detail: detail.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The relation an audit entry names: a pair when the entry recorded one; the bare
/// `schema.name` text of entries written before, which may be ambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordedName {
    /// Schema and name as recorded.
    Exact(HypertableName),
    /// The text of an older entry, resolved against the live relations.
    Legacy(String),
}

impl RecordedName {
    /// The one live relation this names. An older entry wrote `schema.table` without
    /// quotes, so `a.b.c` may be `"a.b".c` or `a."b.c"`: when both exist the entry cannot
    /// be told apart and the error says so.
    pub fn resolve(&self, live: &LiveState) -> std::result::Result<HypertableName, String> {
        let text = match self {
            RecordedName::Exact(name) => return Ok(name.clone()),
            RecordedName::Legacy(text) => text,
        };
        if let Ok(name) = text.parse::<HypertableName>() {
            if live.relation(&name).is_some() {
                return Ok(name);
            }
        }
        let candidates: Vec<HypertableName> = text
            .match_indices('.')
            .map(|(at, _)| HypertableName::new(&text[..at], &text[at + 1..]))
            .filter(|name| live.relation(name).is_some())
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!("no hypertable or continuous aggregate named {text} exists now")),
            several => Err(format!(
                "{text} could be {}: this entry predates names kept as pairs; change the policy on its page instead",
                several
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
        }
    }
}

/// A policy change as its audit entry recorded it: what reverting it restores.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The entry's id.
    pub audit_id: i64,
    /// The relation.
    pub name: RecordedName,
    /// Hypertable or aggregate.
    pub kind: ObjectKind,
    /// The saved edit before the change.
    pub edit_before: PolicyEdit,
    /// The live state before the change (entries written since it was recorded).
    pub live_before: Option<RecordedLive>,
    /// The entry that already reverted this one, if any.
    pub reverted_by: Option<i64>,
}

/// Reads audit entry `audit_id` as a policy change.
pub async fn recorded(conn: &mut PgConnection, audit_id: i64) -> Result<Recorded> {
    let row: Option<(String, Option<String>, Option<serde_json::Value>, String)> = sqlx::query_as(
        "SELECT action, object_id, before, outcome FROM console.audit_log WHERE id = $1",
    )
    .bind(audit_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((action, object_id, before, outcome)) = row else {
        return Err(Error::NotFound(format!("no audit entry {audit_id}")));
    };
    // A well-formed id that names no policy change is not found; one whose change never
    // happened conflicts with what the trail says.
    if action != "policy.edit" && action != "policy.revert" {
        return Err(Error::NotFound(format!(
            "audit entry {audit_id} is a {action}, not a policy change: only policy changes can be reverted"
        )));
    }
    if outcome != "success" {
        return Err(Error::Conflict(format!(
            "audit entry {audit_id} records a change that did not happen ({outcome}): nothing to revert"
        )));
    }
    let before = before.unwrap_or_default();
    let relation = before.get("relation");
    let name =
        match relation.and_then(|r| Some((r.get("schema")?.as_str()?, r.get("name")?.as_str()?))) {
            Some((schema, table)) => RecordedName::Exact(HypertableName::new(schema, table)),
            None => RecordedName::Legacy(object_id.unwrap_or_default()),
        };
    let kind = relation
        .and_then(|r| r.get("kind").cloned())
        .and_then(|k| serde_json::from_value(k).ok())
        .unwrap_or_default();
    let edit_before = PolicyEdit {
        managed: before.get("managed").and_then(|m| m.as_bool()),
        overrides: before
            .get("overrides")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| Error::Unexpected(format!("audit entry {audit_id}: {e}")))?
            .unwrap_or_default(),
    };
    let live_before = before
        .get("live")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| Error::Unexpected(format!("audit entry {audit_id}'s live state: {e}")))?;
    let reverted_by: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM console.audit_log
          WHERE action = 'policy.revert' AND outcome = 'success'
            AND (after ->> 'revert_of' = $1::text OR detail = 'revert of audit entry ' || $1::text)
          ORDER BY id LIMIT 1",
    )
    .bind(audit_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Recorded {
        audit_id,
        name,
        kind,
        edit_before,
        live_before,
        reverted_by,
    })
}

/// The ids among `ids` that a later entry reverted, with the reverting entry's id.
pub async fn reverted(pool: &PgPool, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT o.id, min(r.id)
           FROM unnest($1::bigint[]) AS o(id)
           JOIN console.audit_log r
             ON r.action = 'policy.revert' AND r.outcome = 'success'
            AND (r.after ->> 'revert_of' = o.id::text OR r.detail = 'revert of audit entry ' || o.id)
          GROUP BY o.id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::live::LiveCagg;

    fn table(schema: &str, name: &str) -> LiveTable {
        LiveTable::bare(schema, name)
    }

    #[test]
    fn older_entries_resolve_to_the_one_table_that_exists() {
        let mut live = LiveState {
            tables: vec![table("zz_probe.a", "b")],
            caggs: vec![],
        };
        let legacy = RecordedName::Legacy("zz_probe.a.b".into());
        assert_eq!(
            legacy.resolve(&live).unwrap(),
            HypertableName::new("zz_probe.a", "b")
        );
        live.tables.push(table("zz_probe", "a.b"));
        let error = legacy.resolve(&live).unwrap_err();
        assert!(
            error.contains("zz_probe.\"a.b\" or \"zz_probe.a\".b"),
            "{error}"
        );
        let exact = RecordedName::Exact(HypertableName::new("zz_probe", "a.b"));
        assert_eq!(exact.resolve(&live).unwrap().table, "a.b");
        live.caggs.push(LiveCagg {
            name: HypertableName::new("plant", "hourly"),
            source: HypertableName::new("plant", "raw"),
            source_is_aggregate: false,
            materialization: HypertableName::new(
                "_timescaledb_internal",
                "_materialized_hypertable_2",
            ),
            refresh: vec![],
            policies: table("plant", "hourly"),
        });
        assert_eq!(
            RecordedName::Legacy("plant.hourly".into())
                .resolve(&live)
                .unwrap(),
            HypertableName::new("plant", "hourly")
        );
        assert!(RecordedName::Legacy("plant.gone".into())
            .resolve(&live)
            .is_err());
    }
}
