//! Login throttling (`console.login_throttle`): exponential back-off per account name
//! and per client address, shared by every console instance.
//!
//! Unknown account names are counted like real ones, so the back-off itself reveals
//! nothing about which accounts exist.

use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};

/// What is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An account name (lower-cased), existing or not.
    Account,
    /// A client address.
    Address,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }

    /// How many failures are free before the back-off starts: an address may be a whole
    /// factory behind one NAT, so it gets more.
    pub fn free_failures(self) -> i32 {
        match self {
            Scope::Account => 5,
            Scope::Address => 20,
        }
    }
}

/// The back-off after the free failures: 1 s, doubling per failure, at most 15 minutes.
pub const MAX_BLOCK_SECONDS: i64 = 900;

/// Failures older than this are forgotten: the count starts again.
pub const WINDOW_SECONDS: i64 = 3600;

fn normalise(scope: Scope, key: &str) -> String {
    match scope {
        Scope::Account => key.trim().to_lowercase(),
        Scope::Address => key.to_string(),
    }
}

/// Seconds until every one of `keys` may try again; `None` when none is blocked.
pub async fn blocked_for(pool: &PgPool, keys: &[(Scope, &str)]) -> Result<Option<i64>> {
    let mut longest: Option<i64> = None;
    for (scope, key) in keys {
        let until: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT blocked_until FROM console.login_throttle
              WHERE scope = $1 AND key = $2 AND blocked_until > now()",
        )
        .bind(scope.as_str())
        .bind(normalise(*scope, key))
        .fetch_optional(pool)
        .await?
        .flatten();
        if let Some(until) = until {
            let seconds = (until - Utc::now()).num_milliseconds().div_euclid(1000) + 1;
            longest = Some(longest.map_or(seconds, |l| l.max(seconds)));
        }
    }
    Ok(longest)
}

/// Counts a failed sign-in on `key` and sets the back-off that follows; returns the
/// block in seconds, `None` while failures are still free.
pub async fn record_failure(
    conn: &mut PgConnection,
    scope: Scope,
    key: &str,
) -> Result<Option<i64>> {
    let key = normalise(scope, key);
    let failures: i32 = sqlx::query_scalar(
        "INSERT INTO console.login_throttle AS t (scope, key, failures, last_failure_at)
         VALUES ($1, $2, 1, now())
         ON CONFLICT (scope, key) DO UPDATE SET
             failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => $3)
                             THEN 1 ELSE t.failures + 1 END,
             last_failure_at = now()
         RETURNING failures",
    )
    .bind(scope.as_str())
    .bind(&key)
    .bind(WINDOW_SECONDS as f64)
    .fetch_one(&mut *conn)
    .await?;
    let seconds = backoff_seconds(scope, failures);
    if let Some(seconds) = seconds {
        sqlx::query(
            "UPDATE console.login_throttle
                SET blocked_until = now() + make_interval(secs => $3)
              WHERE scope = $1 AND key = $2",
        )
        .bind(scope.as_str())
        .bind(&key)
        .bind(seconds as f64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(seconds)
}

/// The block after `failures`: none while free, then 1 s doubling up to the maximum.
pub fn backoff_seconds(scope: Scope, failures: i32) -> Option<i64> {
    let over = failures - scope.free_failures();
    (over >= 0).then(|| {
        let exponent = over.min(20) as u32;
        (1i64 << exponent).min(MAX_BLOCK_SECONDS)
    })
}

/// Forgets the failures of `key` (after a successful sign-in to that account).
pub async fn clear(executor: impl PgExecutor<'_>, scope: Scope, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM console.login_throttle WHERE scope = $1 AND key = $2")
        .bind(scope.as_str())
        .bind(normalise(scope, key))
        .execute(executor)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_after_the_free_failures_and_doubles_to_a_cap() {
        assert_eq!(backoff_seconds(Scope::Account, 4), None);
        assert_eq!(backoff_seconds(Scope::Account, 5), Some(1));
        assert_eq!(backoff_seconds(Scope::Account, 6), Some(2));
        assert_eq!(backoff_seconds(Scope::Account, 9), Some(16));
        assert_eq!(backoff_seconds(Scope::Account, 40), Some(MAX_BLOCK_SECONDS));
        assert_eq!(backoff_seconds(Scope::Address, 19), None);
        assert_eq!(backoff_seconds(Scope::Address, 20), Some(1));
    }
}
