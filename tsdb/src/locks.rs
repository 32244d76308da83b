//! One writer per task across console instances: several instances may run behind a load
//! balancer (DESIGN.md), and background work that writes (session janitor, policy
//! reconciler, storage sampler, job watcher, webhook sender) must run on exactly one of
//! them at a time. A PostgreSQL advisory lock decides, held on the connection the work
//! runs on: it cannot outlive the session that took it (a crashed instance releases it),
//! and on a server that serves one connection at a time the work needs no second one.

use crate::Result;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};

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

/// A connection holding a task lock: the work runs on it ([`Held::conn`]), then
/// [`Held::release`] unlocks and returns it to the pool. Dropped without releasing (an
/// error, a cancelled task), the connection is closed, and its session's lock with it.
pub struct Held {
    conn: Option<PoolConnection<Postgres>>,
    lock: TaskLock,
}

impl Held {
    /// The connection that holds the lock.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a held lock has its connection until released")
    }

    /// Unlocks and gives the connection back to the pool.
    pub async fn release(mut self) -> Result<()> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let released = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
            .bind(NAMESPACE)
            .bind(self.lock.key())
            .execute(&mut *conn)
            .await;
        if let Err(error) = released {
            // If unlocking fails the connection is broken: closing it ends the session
            // and its locks.
            conn.detach();
            return Err(error.into());
        }
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            tracing::debug!(lock = ?self.lock, "task lock dropped unreleased; closing its connection");
            drop(conn.detach());
        }
    }
}

/// Takes `lock` on a connection of `pool`, or returns `None` at once when another
/// session (another console instance) holds it.
pub async fn try_lock(pool: &PgPool, lock: TaskLock) -> Result<Option<Held>> {
    let mut conn = pool.acquire().await?;
    let acquired: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(NAMESPACE)
        .bind(lock.key())
        .fetch_one(&mut *conn)
        .await?;
    Ok(acquired.then_some(Held {
        conn: Some(conn),
        lock,
    }))
}
