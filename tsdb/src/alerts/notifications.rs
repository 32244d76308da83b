//! The webhook outbox. Messages are queued in the transaction that raises or clears an
//! alert, so none is lost or invented; a sender claims the due ones (a lease, so two
//! console instances never post the same message at once), posts them, and records the
//! outcome. A message waits for the earlier undelivered messages of its alert, so a
//! receiver never hears "resolved" before "raised".

use super::{Alert, AlertEvent, OutboxStatus};
use crate::pg_time::PgTimestamp;
use crate::Result;
use sqlx::{PgConnection, PgExecutor};
use std::time::Duration;

/// Attempts before a message is abandoned (about 1.5 hours of retrying).
pub const MAX_ATTEMPTS: i32 = 15;

/// The pause before the next attempt after `attempts` failed ones: 2 s, doubling, at most
/// 10 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    Duration::from_secs((2u64 << exponent).min(600))
}

/// Queues a message about `alert` (inside the alert's transaction).
pub async fn enqueue(
    conn: &mut PgConnection,
    alert: &Alert,
    payload: serde_json::Value,
    event: AlertEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO console.alert_notifications (alert_id, event, payload) VALUES ($1, $2, $3)",
    )
    .bind(alert.id)
    .bind(event.as_str())
    .bind(payload)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A message to post.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    /// Its id.
    pub id: i64,
    /// The JSON body.
    pub payload: serde_json::Value,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// Claims up to `limit` due messages for `lease` (they are not handed out again before).
pub async fn claim_due(
    executor: impl PgExecutor<'_>,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Pending>> {
    let lease_seconds = lease.as_secs_f64();
    Ok(sqlx::query_as(
        "UPDATE console.alert_notifications n
            SET next_attempt_at = now() + make_interval(secs => $2)
          WHERE n.id IN (
                SELECT d.id FROM console.alert_notifications d
                 WHERE d.delivered_at IS NULL AND d.abandoned_at IS NULL
                   AND d.next_attempt_at <= now()
                   AND NOT EXISTS (
                       SELECT 1 FROM console.alert_notifications e
                        WHERE e.alert_id = d.alert_id AND e.id < d.id
                          AND e.delivered_at IS NULL AND e.abandoned_at IS NULL)
                 ORDER BY d.id LIMIT $1
                 FOR UPDATE SKIP LOCKED)
         RETURNING n.id, n.payload, n.attempts",
    )
    .bind(limit)
    .bind(lease_seconds)
    .fetch_all(executor)
    .await?)
}

/// Records a delivery.
pub async fn delivered(executor: impl PgExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE console.alert_notifications
            SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
          WHERE id = $1",
    )
    .bind(id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried after the back-off, abandoned after [`MAX_ATTEMPTS`].
pub async fn failed(executor: impl PgExecutor<'_>, pending: &Pending, error: &str) -> Result<()> {
    let attempts = pending.attempts + 1;
    sqlx::query(
        "UPDATE console.alert_notifications
            SET attempts = $2, last_error = $3,
                next_attempt_at = now() + make_interval(secs => $4),
                abandoned_at = CASE WHEN $2 >= $5 THEN now() END
          WHERE id = $1",
    )
    .bind(pending.id)
    .bind(attempts)
    .bind(error)
    .bind(backoff(attempts).as_secs_f64())
    .bind(MAX_ATTEMPTS)
    .execute(executor)
    .await?;
    Ok(())
}

/// Counts and the latest outcome.
pub async fn status(executor: impl PgExecutor<'_>) -> Result<OutboxStatus> {
    let (pending, abandoned, last_delivered_at, last_error): (
        i64,
        i64,
        Option<PgTimestamp>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE delivered_at IS NULL AND abandoned_at IS NULL),
                count(*) FILTER (WHERE abandoned_at IS NOT NULL),
                max(delivered_at),
                (SELECT last_error FROM console.alert_notifications
                  WHERE delivered_at IS NULL AND last_error IS NOT NULL
                  ORDER BY id DESC LIMIT 1)
           FROM console.alert_notifications",
    )
    .fetch_one(executor)
    .await?;
    Ok(OutboxStatus {
        pending,
        abandoned,
        last_delivered_at: PgTimestamp::finite_or_none(last_delivered_at),
        last_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_two_seconds_to_ten_minutes() {
        let pauses: Vec<u64> = (1..=12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(pauses, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]);
        assert_eq!(backoff(0).as_secs(), 2);
    }
}
