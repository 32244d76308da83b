//! The webhook sender: posts the queued alert messages to `MS5_ALERT_WEBHOOK_URL`, in
//! order per alert, retrying with back-off (2 s doubling to 10 minutes, abandoned after
//! 15 attempts). It never blocks anything: the watcher only queues, and a slow or dead
//! receiver costs this task alone. Claims are leases, so several console instances can
//! run it without posting a message twice at once. With a secret, every body is signed:
//! `X-MS5-Signature: sha256=<hex HMAC-SHA256 of the body>`, so a receiver can refuse
//! messages that did not come from the console.

use super::TaskError;
use crate::config::jobs::JobSettings;
use app::state::AppState;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use tsdb::alerts::notifications::{self, Pending};

/// How long a receiver may take to answer.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed message is reserved for this instance.
const LEASE: Duration = Duration::from_secs(60);
/// How often it looks for retries that came due.
const TICK: Duration = Duration::from_secs(1);

/// Where messages go and how they are signed. No `Debug`: both the URL and the secret
/// may be credentials, and nothing should print them by accident.
#[derive(Clone)]
pub struct Webhook {
    /// The receiver.
    pub url: String,
    /// The HMAC key of the signature header, if any.
    pub secret: Option<String>,
}

impl Webhook {
    /// The configured webhook, if a URL is set.
    pub fn from_settings(settings: &JobSettings) -> Option<Webhook> {
        Some(Webhook {
            url: settings.webhook_url.clone()?,
            secret: settings.webhook_secret.clone(),
        })
    }
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Posts messages until shutdown; without a webhook it only waits for shutdown.
pub async fn run(
    state: AppState,
    webhook: Option<Webhook>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    let Some(webhook) = webhook else {
        let _ = shutdown.changed().await;
        return Ok(());
    };
    // Never follow a redirect: the next hop would get the body again and, as `Referer`,
    // the configured URL's secret path and query. A redirect is a failed delivery.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .timeout(POST_TIMEOUT)
        .user_agent(concat!("ms5-console/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TaskError::Setup(format!("cannot build the webhook client: {e}")))?;
    loop {
        if let Ok(pool) = state.pool() {
            match notifications::claim_due(&pool, 20, LEASE).await {
                Ok(due) => {
                    for pending in due {
                        deliver(&client, &webhook, &pool, &pending).await;
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

/// Posts one message (signed when there is a secret) and records the outcome.
async fn deliver(
    client: &reqwest::Client,
    webhook: &Webhook,
    pool: &sqlx::PgPool,
    pending: &Pending,
) {
    let body = pending.payload.to_string().into_bytes();
    let mut request = client
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = &webhook.secret {
        request = request.header("X-MS5-Signature", signature(secret, &body));
    }
    if let Some(event) = pending.payload["event"].as_str() {
        request = request.header("X-MS5-Event", event);
    }
    let outcome = match request.body(body).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) if response.status().is_redirection() => Err(format!(
            "the receiver answered HTTP {} (a redirect): the console does not follow redirects, so that the URL's path and query stay with the receiver configured; set MS5_ALERT_WEBHOOK_URL to the final address",
            response.status().as_u16()
        )),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
