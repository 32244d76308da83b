//! Request limits every request passes before the guard: the body must arrive in full
//! within the body time-out (408) and stay under the size limit (413), and no more than
//! `max_in_flight` requests are handled at once (503 with `Retry-After`). Handlers are
//! never cut off mid-way: a "run now" may rightly take minutes, and a write abandoned
//! half-way is worse than a slow one; their database calls carry their own time-outs.

use crate::api::error::ApiError;
use crate::config::http::HttpSettings;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The request limits, from the configuration.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time for the request headers to arrive (enforced by the listener).
    pub header_timeout: Duration,
    /// Time for the whole body to arrive.
    pub body_timeout: Duration,
    /// Largest body in bytes.
    pub max_body_bytes: usize,
    /// Open connections at most (enforced by the listener).
    pub max_connections: usize,
    /// Requests handled at once.
    pub max_in_flight: usize,
    /// How long a graceful stop waits for requests in flight.
    pub shutdown: Duration,
}

impl From<&HttpSettings> for HttpLimits {
    fn from(settings: &HttpSettings) -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(u64::from(settings.header_timeout_seconds)),
            body_timeout: Duration::from_secs(u64::from(settings.body_timeout_seconds)),
            max_body_bytes: settings.max_body_kib as usize * 1024,
            max_connections: settings.max_connections as usize,
            max_in_flight: settings.max_in_flight as usize,
            shutdown: Duration::from_secs(u64::from(settings.shutdown_seconds)),
        }
    }
}

/// What the middleware shares between requests.
#[derive(Clone)]
struct Gate {
    limits: HttpLimits,
    in_flight: Arc<Semaphore>,
}

/// `router` behind the request limits; their refusals carry the security headers too.
pub fn limited(router: Router, state: &AppState, limits: &HttpLimits) -> Router {
    let gate = Gate {
        limits: limits.clone(),
        in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
    };
    router
        .layer(axum::middleware::from_fn_with_state(gate, enforce))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::headers::security_headers,
        ))
}

async fn enforce(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let Ok(_permit) = gate.in_flight.clone().try_acquire_owned() else {
        return ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "busy",
            message: format!(
                "The console is handling {} requests already (MS5_HTTP_MAX_IN_FLIGHT); try again in a second.",
                gate.limits.max_in_flight
            ),
            retry_after: Some(1),
            details: None,
        }
        .into_response();
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > gate.limits.max_body_bytes as u64) {
        return too_large(&gate.limits);
    }
    let (parts, body) = request.into_parts();
    let limited = Limited::new(body, gate.limits.max_body_bytes);
    let bytes = match tokio::time::timeout(gate.limits.body_timeout, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<LengthLimitError>() => return too_large(&gate.limits),
        Ok(Err(error)) => {
            tracing::debug!(%error, "request body could not be read");
            return refusal(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "The request body could not be read.".into(),
            );
        }
        Err(_) => {
            return refusal(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "The request body did not arrive within {} s.",
                    gate.limits.body_timeout.as_secs()
                ),
            )
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn too_large(limits: &HttpLimits) -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "The request body is larger than {} KiB (MS5_HTTP_MAX_BODY_KIB).",
            limits.max_body_bytes / 1024
        ),
    )
}

fn refusal(status: StatusCode, code: &'static str, message: String) -> Response {
    ApiError {
        status,
        code,
        message,
        retry_after: None,
        details: None,
    }
    .into_response()
}
