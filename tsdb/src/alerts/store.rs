//! Alerts in the console's schema: the watcher's reconcile (raise what is new, refresh
//! what persists, clear what ended, queue webhook messages in the same transaction), the
//! lists pages read, and acknowledging (audited).

use super::{notifications, webhook_payload, Alert, AlertEvent, AlertKind, Condition};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::pg_time::PgTimestamp;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use std::time::Duration;

/// One alert row, by name.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    job_id: i32,
    kind: String,
    job_kind: String,
    hypertable: Option<String>,
    message: String,
    raised_at: PgTimestamp,
    last_seen_at: PgTimestamp,
    last_notified_at: Option<PgTimestamp>,
    acknowledged_at: Option<PgTimestamp>,
    acknowledged_by: Option<String>,
    cleared_at: Option<PgTimestamp>,
}

const COLUMNS: &str = "id, job_id, kind, job_kind, hypertable, message, raised_at, last_seen_at,
    last_notified_at, acknowledged_at, acknowledged_by, cleared_at";

impl Row {
    fn into_alert(self) -> Result<Alert> {
        let kind = AlertKind::parse(&self.kind)
            .ok_or_else(|| Error::Unexpected(format!("alert kind {:?}", self.kind)))?;
        let finite = |t: PgTimestamp| {
            t.finite()
                .ok_or_else(|| Error::Unexpected("an alert at an infinite time".into()))
        };
        Ok(Alert {
            id: self.id,
            job_id: i64::from(self.job_id),
            kind,
            job_kind: self.job_kind,
            hypertable: self.hypertable,
            message: self.message,
            raised_at: finite(self.raised_at)?,
            last_seen_at: finite(self.last_seen_at)?,
            acknowledged_at: PgTimestamp::finite_or_none(self.acknowledged_at),
            acknowledged_by: self.acknowledged_by,
            cleared_at: PgTimestamp::finite_or_none(self.cleared_at),
        })
    }
}

/// What one reconcile changed.
#[derive(Debug, Default)]
pub struct Changes {
    /// Newly raised.
    pub raised: Vec<Alert>,
    /// Still open, reminded by webhook.
    pub reminded: Vec<Alert>,
    /// Cleared now.
    pub cleared: Vec<Alert>,
}

impl Changes {
    /// Whether anything was queued for the webhook.
    pub fn queued_messages(&self, notify: bool) -> bool {
        notify && !(self.raised.is_empty() && self.reminded.is_empty() && self.cleared.is_empty())
    }
}

/// Makes the open alerts match `conditions`: raises new ones, refreshes the message of
/// the ones that persist, clears the others but those `undecided` (left as they are).
/// With `notify`, queues a webhook message for each raise and clear, and a reminder for
/// an alert last announced more than `reminder` ago. All in one transaction.
pub async fn reconcile(
    conn: &mut PgConnection,
    conditions: &[Condition],
    undecided: &[(i64, AlertKind)],
    notify: bool,
    reminder: Option<Duration>,
) -> Result<Changes> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let open: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console.alerts WHERE cleared_at IS NULL FOR UPDATE"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&mut *tx)
        .await?;
    let mut changes = Changes::default();
    let mut still_open = Vec::new();
    for row in open {
        let condition = conditions
            .iter()
            .find(|c| i64::from(row.job_id) == c.job_id && c.kind.as_str() == row.kind);
        let waiting = AlertKind::parse(&row.kind)
            .is_some_and(|kind| undecided.contains(&(i64::from(row.job_id), kind)));
        match condition {
            None if waiting => {
                let alert = row.into_alert()?;
                still_open.push((alert.job_id, alert.kind));
            }
            Some(condition) => {
                let due = notify
                    && row.acknowledged_at.is_none()
                    && reminder.is_some_and(|every| {
                        let last = PgTimestamp::finite_or_none(row.last_notified_at);
                        last.is_none_or(|last| (now - last).to_std().unwrap_or_default() >= every)
                    });
                let updated: Row = sqlx::query_as(&format!(
                    "UPDATE console.alerts SET message = $2, last_seen_at = now(),
                            last_notified_at = CASE WHEN $3 THEN now() ELSE last_notified_at END
                      WHERE id = $1 RETURNING {COLUMNS}"
                ))
                .bind(row.id)
                .bind(&condition.message)
                .bind(due)
                .fetch_one(&mut *tx)
                .await?;
                let alert = updated.into_alert()?;
                if due {
                    notifications::enqueue(
                        &mut tx,
                        &alert,
                        webhook_payload(AlertEvent::Reminder, &alert, now),
                        AlertEvent::Reminder,
                    )
                    .await?;
                    changes.reminded.push(alert.clone());
                }
                still_open.push((alert.job_id, alert.kind));
            }
            None => {
                let cleared: Row = sqlx::query_as(&format!(
                    "UPDATE console.alerts SET cleared_at = now() WHERE id = $1 RETURNING {COLUMNS}"
                ))
                .bind(row.id)
                .fetch_one(&mut *tx)
                .await?;
                let alert = cleared.into_alert()?;
                if notify {
                    notifications::enqueue(
                        &mut tx,
                        &alert,
                        webhook_payload(AlertEvent::Resolved, &alert, now),
                        AlertEvent::Resolved,
                    )
                    .await?;
                }
                changes.cleared.push(alert);
            }
        }
    }
    for condition in conditions {
        if still_open.contains(&(condition.job_id, condition.kind)) {
            continue;
        }
        let job_id = i32::try_from(condition.job_id)
            .map_err(|_| Error::Unexpected(format!("job id {}", condition.job_id)))?;
        let raised: Row = sqlx::query_as(&format!(
            "INSERT INTO console.alerts (job_id, kind, job_kind, hypertable, message, last_notified_at)
             VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)
             RETURNING {COLUMNS}"
        ))
        .bind(job_id)
        .bind(condition.kind.as_str())
        .bind(&condition.job_kind)
        .bind(&condition.hypertable)
        .bind(&condition.message)
        .bind(notify)
        .fetch_one(&mut *tx)
        .await?;
        let alert = raised.into_alert()?;
        if notify {
            notifications::enqueue(
                &mut tx,
                &alert,
                webhook_payload(AlertEvent::Raised, &alert, now),
                AlertEvent::Raised,
            )
            .await?;
        }
        changes.raised.push(alert);
    }
    tx.commit().await?;
    Ok(changes)
}

/// The open alerts, oldest first.
pub async fn open(executor: impl PgExecutor<'_>) -> Result<Vec<Alert>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console.alerts WHERE cleared_at IS NULL ORDER BY raised_at, id"
    ))
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(Row::into_alert).collect()
}

/// The `limit` newest alerts, open or not; of one job when `job_id` is given.
pub async fn recent(
    executor: impl PgExecutor<'_>,
    job_id: Option<i32>,
    limit: i64,
) -> Result<Vec<Alert>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console.alerts
          WHERE $1::integer IS NULL OR job_id = $1
          ORDER BY raised_at DESC, id DESC LIMIT $2"
    ))
    .bind(job_id)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(Row::into_alert).collect()
}

/// Marks an open alert as seen by someone; audited. Acknowledged alerts stay open (and
/// keep `/health` degraded) until the job recovers, but stop the reminders.
pub async fn acknowledge(
    conn: &mut PgConnection,
    actor: &Actor,
    client_addr: Option<&str>,
    alert_id: i64,
) -> Result<Alert> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console.alerts WHERE id = $1 FOR UPDATE"
    ))
    .bind(alert_id)
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or_else(|| Error::NotFound(format!("no alert with id {alert_id}")))?;
    if row.cleared_at.is_some() {
        return Err(Error::Conflict(format!(
            "alert {alert_id} has already cleared: the job recovered"
        )));
    }
    if let Some(by) = &row.acknowledged_by {
        return Err(Error::Conflict(format!(
            "alert {alert_id} was already acknowledged by {by}"
        )));
    }
    let updated: Row = sqlx::query_as(&format!(
        "UPDATE console.alerts SET acknowledged_at = now(), acknowledged_by = $2
          WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(alert_id)
    .bind(actor.name())
    .fetch_one(&mut *tx)
    .await?;
    let alert = updated.into_alert()?;
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: "alert.acknowledge",
            object_type: Some("alert"),
            object_id: Some(&alert_id.to_string()),
            before: Some(json!({"acknowledged": false})),
            after: Some(json!({"acknowledged": true, "title": alert.title()})),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(alert)
}
