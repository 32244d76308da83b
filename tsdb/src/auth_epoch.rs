//! The credentials epoch: a counter the database moves (by trigger) whenever a role, an
//! account, a session or a token changes, so every console instance can tell that the
//! credentials it verified and cached may no longer hold.

use crate::Result;
use sqlx::PgExecutor;

/// The current epoch.
pub async fn current(executor: impl PgExecutor<'_>) -> Result<i64> {
    let epoch = sqlx::query_scalar("SELECT epoch FROM console.auth_epoch")
        .fetch_one(executor)
        .await?;
    Ok(epoch)
}
