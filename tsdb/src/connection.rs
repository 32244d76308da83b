//! What every console connection runs when it opens, and the cheapest question to ask a
//! server: kept here so that all SQL text lives in the engine.

use sqlx::PgConnection;

/// Per-connection settings. JIT compilation costs 300-450 ms per catalog size call on a
/// native PostgreSQL with default settings and buys nothing for the console's short
/// catalog queries (naive size calls at 10,000 chunks: ~30 s with JIT, ~1 s without).
pub async fn prepare(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SET jit = off").execute(conn).await?;
    Ok(())
}

/// Whether the connection answers a statement at all.
pub async fn ping(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(conn).await?;
    Ok(())
}
