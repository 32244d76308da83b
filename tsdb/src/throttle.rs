//! Login throttling (`console.login_throttle`): exponential back-off per account name
//! and per client address, shared by every console instance.
//!
//! Unknown account names are counted like real ones, so the back-off itself reveals
//! nothing about which accounts exist.

use crate::Result;
use sqlx::{PgExecutor, PgPool};

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

/// What a sign-in attempt may do, decided and counted in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// A key is blocked: seconds until it may try again. Nothing was counted.
    Blocked(i64),
    /// The attempt may go ahead and already counts as a failure (a success clears it);
    /// the block that follows if the password is wrong.
    Allowed {
        /// Seconds of back-off after this attempt if it fails; `None` while free.
        block_if_wrong: Option<i64>,
    },
}

/// Checks every key and counts the attempt against each, in one transaction holding their
/// rows: concurrent guesses queue on the rows, so none slips past a block the one before
/// it set (checking, verifying and then counting let every guess in flight through).
pub async fn claim(pool: &PgPool, keys: &[(Scope, &str)]) -> Result<Claim> {
    let mut tx = pool.begin().await?;
    let mut counted = Vec::with_capacity(keys.len());
    let mut blocked: Option<i64> = None;
    // Keys in the order given (account, then address) by every caller: no deadlock.
    for (scope, key) in keys {
        let key = normalise(*scope, key);
        sqlx::query(
            "INSERT INTO console.login_throttle (scope, key, failures, last_failure_at)
             VALUES ($1, $2, 0, now()) ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(scope.as_str())
        .bind(&key)
        .execute(&mut *tx)
        .await?;
        let (failures, stale, left): (i32, bool, Option<f64>) = sqlx::query_as(
            "SELECT failures, last_failure_at < now() - make_interval(secs => $3),
                    CASE WHEN blocked_until > now()
                         THEN extract(epoch FROM blocked_until - now())::float8 END
               FROM console.login_throttle WHERE scope = $1 AND key = $2 FOR UPDATE",
        )
        .bind(scope.as_str())
        .bind(&key)
        .bind(WINDOW_SECONDS as f64)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(left) = left {
            let seconds = left.ceil() as i64 + 1;
            blocked = Some(blocked.map_or(seconds, |b| b.max(seconds)));
        }
        counted.push((*scope, key, if stale { 1 } else { failures + 1 }));
    }
    if let Some(seconds) = blocked {
        tx.rollback().await?;
        return Ok(Claim::Blocked(seconds));
    }
    let mut block_if_wrong: Option<i64> = None;
    for (scope, key, failures) in counted {
        let block = backoff_seconds(scope, failures);
        sqlx::query(
            "UPDATE console.login_throttle
                SET failures = $3, last_failure_at = now(),
                    blocked_until = now() + make_interval(secs => $4)
              WHERE scope = $1 AND key = $2",
        )
        .bind(scope.as_str())
        .bind(&key)
        .bind(failures)
        .bind(block.map(|b| b as f64))
        .execute(&mut *tx)
        .await?;
        block_if_wrong = block_if_wrong.max(block);
    }
    tx.commit().await?;
    Ok(Claim::Allowed { block_if_wrong })
}

/// The block after `failures`: none while free, then 1 s doubling up to the maximum.
pub fn backoff_seconds(scope: Scope, failures: i32) -> Option<i64> {
    let over = failures - scope.free_failures();
    (over >= 0).then(|| {
        let exponent = over.min(20) as u32;
        (1i64 << exponent).min(MAX_BLOCK_SECONDS)
    })
}

/// Forgets the failures of `key` (after a successful sign-in: the account's, and the
/// address's, so a factory behind one address is not held back by its own typos).
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
