//! The console's schema migrations (embedded from `migrations/` at compile time).

use crate::Result;
use sqlx::PgPool;

/// Applies every pending migration. The console's schema is created first because the
/// migrator keeps its own bookkeeping table there, never in `public`.
pub async fn run(pool: &PgPool) -> Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("CREATE SCHEMA IF NOT EXISTS console")
        .execute(&mut *conn)
        .await?;
    let previous: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("SELECT set_config('search_path', 'console, ' || $1, false)")
        .bind(&previous)
        .execute(&mut *conn)
        .await?;
    // `run_direct` on the connection: `run` over `&mut PgConnection` is not provably
    // `Send` inside a spawned task (sqlx's higher-ranked `Acquire` bound).
    let result = sqlx::migrate!("../migrations").run_direct(&mut *conn).await;
    // The connection goes back to the pool: restore the path it had, either way.
    sqlx::query("SELECT set_config('search_path', $1, false)")
        .bind(&previous)
        .execute(&mut *conn)
        .await?;
    result?;
    Ok(())
}
