//! The webhook sender: posts the queued alert messages to `MS5_ALERT_WEBHOOK_URL`, in
//! order per alert, retrying with back-off (2 s doubling to 10 minutes, abandoned after
//! 15 attempts). It never blocks anything: the watcher only queues, and a slow or dead
//! receiver costs this task alone. Claims are leases, so several console instances can
//! run it without posting a message twice at once.

use super::TaskError;
use app::state::AppState;
use std::time::Duration;
use tsdb::alerts::notifications::{self, Pending};

/// How long a receiver may take to answer.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed message is reserved for this instance.
const LEASE: Duration = Duration::from_secs(60);
/// How often it looks for retries that came due.
const TICK: Duration = Duration::from_secs(1);

/// Posts messages until shutdown; without a URL it only waits for shutdown.
pub async fn run(
    state: AppState,
    url: Option<String>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    let Some(url) = url else {
        let _ = shutdown.changed().await;
        return Ok(());
    };
    let client = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .user_agent(concat!("ms5-console/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TaskError::Setup(format!("cannot build the webhook client: {e}")))?;
    loop {
        if let Ok(pool) = state.pool() {
            match notifications::claim_due(&pool, 20, LEASE).await {
                Ok(due) => {
                    for pending in due {
                        deliver(&client, &url, &pool, &pending).await;
                    }
                }
                Err(error) => tracing::debug!(%error, "cannot read the webhook outbox"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = state.alerts.sender_woken() => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// Posts one message and records the outcome.
async fn deliver(client: &reqwest::Client, url: &str, pool: &sqlx::PgPool, pending: &Pending) {
    let outcome = match client.post(url).json(&pending.payload).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!(
            "the receiver answered HTTP {}",
            response.status().as_u16()
        )),
        // Without the URL: it may hold a secret, and the log is not the place for it.
        Err(error) => Err(describe(&error)),
    };
    let recorded = match &outcome {
        Ok(()) => notifications::delivered(pool, pending.id).await,
        Err(error) => {
            tracing::warn!(message = pending.id, attempt = pending.attempts + 1, %error, "webhook delivery failed; retrying later");
            notifications::failed(pool, pending, error).await
        }
    };
    if let Err(error) = recorded {
        tracing::warn!(%error, message = pending.id, "cannot record the webhook outcome");
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", POST_TIMEOUT.as_secs())
    } else if error.is_connect() {
        "cannot connect to the receiver".to_string()
    } else {
        "the request failed".to_string()
    }
}
