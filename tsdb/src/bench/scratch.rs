//! The bench's scratch schema: created for one run, always removed, never shared with
//! user tables. The run holds an advisory lock named after its schema on the connection
//! that made it; a schema whose lock nobody holds belongs to a run that is gone (a killed
//! process, a lost connection) and is removed by the next run's sweep.

use crate::ident::quote_ident;
use crate::Result;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use std::time::Duration;

/// Every scratch schema's name starts with this; nothing else may use it.
pub const PREFIX: &str = "ms5_bench_";

/// The advisory lock namespace of scratch schemas ("MSBE"), apart from the task locks'.
const LOCK_NAMESPACE: i32 = 0x4d53_4245;

/// A scratch schema and the connection holding its lock; the run's main connection.
pub struct Scratch {
    schema: String,
    /// `None` only while stepped aside for another client ([`Scratch::step_aside`]).
    conn: Option<PoolConnection<Postgres>>,
}

impl Scratch {
    /// Creates a fresh schema (named after the time and this session) and takes its lock.
    pub async fn create(pool: &PgPool) -> Result<Scratch> {
        let mut conn = lock_holder(pool).await?;
        let schema: String = sqlx::query_scalar(
            "SELECT $1 || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MISS')
                    || '_' || pg_backend_pid() || '_' || (random() * 1e6)::int",
        )
        .bind(PREFIX)
        .fetch_one(&mut *conn)
        .await?;
        lock(&mut conn, &schema).await?;
        sqlx::query(&format!("CREATE SCHEMA {}", quote_ident(&schema)))
            .execute(&mut *conn)
            .await?;
        sqlx::query(&format!(
            "COMMENT ON SCHEMA {} IS 'ms5-console bench scratch schema: removed when its run ends'",
            quote_ident(&schema)
        ))
        .execute(&mut *conn)
        .await?;
        Ok(Scratch {
            schema,
            conn: Some(conn),
        })
    }

    /// The schema's name (unquoted).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The scratch schemas of other runs still going (their lock is held), asked on this
    /// run's own connection (a one-connection server has no other to give).
    pub async fn others_running(&mut self) -> Result<Vec<String>> {
        let own = self.schema.clone();
        let conn = self.conn()?;
        let mut running = Vec::new();
        for schema in scratch_schemas(conn, &own).await? {
            if try_lock(conn, &schema).await? {
                // A run that is gone: the next sweep removes its schema.
                unlock(conn, &schema).await?;
            } else {
                running.push(schema);
            }
        }
        Ok(running)
    }

    /// The connection that made the schema and holds its lock.
    pub fn conn(&mut self) -> Result<&mut PgConnection> {
        self.conn.as_deref_mut().ok_or_else(|| {
            crate::Error::Unexpected("the bench's connection was handed to another client".into())
        })
    }

    /// Closes the run's connection so a server that serves one connection at a time can
    /// serve another client (psql measuring an anchor); [`Scratch::come_back`] reopens it.
    /// The lock goes with the connection meanwhile: on such a server no other bench can
    /// be connected to sweep the schema away.
    pub async fn step_aside(&mut self) -> Result<()> {
        if let Some(conn) = self.conn.take() {
            conn.close().await?;
        }
        Ok(())
    }

    /// Takes a connection and the schema's lock again after [`Scratch::step_aside`]. A
    /// one-connection server may still be saying goodbye to the other client and refuse
    /// at first: it is asked again for a while.
    pub async fn come_back(&mut self, pool: &PgPool) -> Result<()> {
        const PATIENCE: Duration = Duration::from_secs(15);
        if self.conn.is_some() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            match lock_holder(pool).await {
                Ok(mut conn) => {
                    lock(&mut conn, &self.schema).await?;
                    self.conn = Some(conn);
                    return Ok(());
                }
                Err(crate::Error::Database(error))
                    if crate::trouble_of(&error) == crate::Trouble::Unreachable
                        && started.elapsed() < PATIENCE =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Drops the schema and everything in it, and releases the lock.
    pub async fn remove(mut self) -> Result<()> {
        let schema = self.schema.clone();
        let conn = self.conn()?;
        drop_schema(conn, &schema).await?;
        unlock(conn, &schema).await
    }
}

/// A connection for the run; dropped mid-statement (an interrupted run) it is closed,
/// not handed to anyone else.
async fn lock_holder(pool: &PgPool) -> Result<PoolConnection<Postgres>> {
    let mut conn = pool.acquire().await?;
    conn.close_on_drop();
    Ok(conn)
}

/// Every scratch schema in the database but `except` (`""`: none left out), by name.
async fn scratch_schemas(conn: &mut PgConnection, except: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace
          WHERE starts_with(nspname, $1) AND nspname <> $2 ORDER BY 1",
    )
    .bind(PREFIX)
    .bind(except)
    .fetch_all(conn)
    .await?)
}

/// Takes `schema`'s lock unless a run holds it; whether it was free.
async fn try_lock(conn: &mut PgConnection, schema: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(LOCK_NAMESPACE)
            .bind(schema)
            .fetch_one(conn)
            .await?,
    )
}

/// Releases `schema`'s lock held by this session.
async fn unlock(conn: &mut PgConnection, schema: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
        .bind(LOCK_NAMESPACE)
        .bind(schema)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes `schema`'s lock for this session (held until unlocked or the session ends).
async fn lock(conn: &mut PgConnection, schema: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_lock($1, hashtext($2))")
        .bind(LOCK_NAMESPACE)
        .bind(schema)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes sure `schema` is gone after a run that may have been cut short: ends the other
/// sessions still holding its lock (a statement the interrupted run left running), then
/// drops it if it exists. Safe to call when it is already gone.
pub async fn ensure_removed(pool: &PgPool, schema: &str) -> Result<()> {
    if !schema.starts_with(PREFIX) {
        return Err(crate::Error::Invalid(format!(
            "{schema} is not a bench scratch schema (they start with {PREFIX})"
        )));
    }
    let mut conn = pool.acquire().await?;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks
          WHERE locktype = 'advisory' AND classid = $1::oid AND objid = hashtext($2)::oid
            AND objsubid = 2 AND pid <> pg_backend_pid()",
    )
    .bind(LOCK_NAMESPACE)
    .bind(schema)
    .execute(&mut *conn)
    .await?;
    drop_schema(&mut conn, schema).await
}

/// What [`sweep`] found: schemas of runs that are gone (removed) and of runs still going.
#[derive(Debug, Default)]
pub struct Swept {
    /// Removed: their run is gone (the lock was free).
    pub removed: Vec<String>,
    /// Left alone: their run still holds the lock.
    pub running: Vec<String>,
}

/// Removes the scratch schemas of runs that are gone (their lock is free); schemas of runs
/// still going are left alone and named.
pub async fn sweep(pool: &PgPool) -> Result<Swept> {
    let mut conn = pool.acquire().await?;
    let mut swept = Swept::default();
    for schema in scratch_schemas(&mut conn, "").await? {
        if !try_lock(&mut conn, &schema).await? {
            swept.running.push(schema);
            continue;
        }
        let dropped = drop_schema(&mut conn, &schema).await;
        unlock(&mut conn, &schema).await?;
        dropped?;
        swept.removed.push(schema);
    }
    Ok(swept)
}

/// `DROP SCHEMA … CASCADE` (TimescaleDB drops the hypertables' chunks with it), waiting at
/// most a while for locks so a stuck session is reported instead of waited on forever.
async fn drop_schema(conn: &mut PgConnection, schema: &str) -> Result<()> {
    const LOCK_WAIT: Duration = Duration::from_secs(30);
    sqlx::query("SELECT set_config('lock_timeout', $1, false)")
        .bind(format!("{}s", LOCK_WAIT.as_secs()))
        .execute(&mut *conn)
        .await?;
    let dropped = sqlx::query(&format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        quote_ident(schema)
    ))
    .execute(&mut *conn)
    .await;
    sqlx::query("RESET lock_timeout")
        .execute(&mut *conn)
        .await?;
    dropped?;
    Ok(())
}
