//! One writer per task across console instances: several instances may run behind a load
//! balancer (DESIGN.md), and background work that writes (session janitor, policy
//! reconciler, storage sampler, job watcher, webhook sender) must run on exactly one of
//! them at a time. A PostgreSQL advisory lock decides, held on the connection the work
//! runs on: it cannot outlive the session that took it (a crashed instance releases it),
//! and on a server that serves one connection at a time the work needs no second one.

use crate::Result;
use sqlx::{PgConnection, PgPool};

/// Advisory locks take two 32-bit keys: this first one ("MS50") keeps the console's
/// locks apart from any the application's own code takes.
const NAMESPACE: i32 = 0x4d53_3530;

/// The background work that runs on one instance at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskLock {
    /// Deleting timed-out sessions.
    SessionJanitor,
    /// Making live policies match the desired ones.
    PolicyReconciler,
    /// Recording storage samples.
    StorageSampler,
    /// Watching jobs and raising alerts.
    JobWatcher,
}

impl TaskLock {
    /// The second key; never reuse a number for another task.
    fn key(self) -> i32 {
        match self {
            TaskLock::SessionJanitor => 1,
            TaskLock::PolicyReconciler => 2,
            TaskLock::StorageSampler => 3,
            TaskLock::JobWatcher => 4,
        }
    }
}

/// Runs `work` on a connection holding `lock`, or returns `None` at once when another
/// session (another console instance) holds it. The lock is released afterwards, also
/// when the work fails.
pub async fn with_lock<T>(
    pool: &PgPool,
    lock: TaskLock,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T>,
) -> Result<Option<T>> {
    let mut conn = pool.acquire().await?;
    let acquired: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(NAMESPACE)
        .bind(lock.key())
        .fetch_one(&mut *conn)
        .await?;
    if !acquired {
        return Ok(None);
    }
    let outcome = work(&mut conn).await;
    // If unlocking fails the connection is broken, and its session's locks went with it.
    let released = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
        .bind(NAMESPACE)
        .bind(lock.key())
        .execute(&mut *conn)
        .await;
    if let Err(error) = released {
        tracing::warn!(%error, ?lock, "advisory unlock failed; the connection is closed instead");
        conn.detach();
    }
    outcome.map(Some)
}
