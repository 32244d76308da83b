//! The one error shape every REST endpoint answers with.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// A REST error: a status code and a stable JSON body `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: &'static str,
    /// A sentence for people; never database text.
    pub message: String,
    /// `Retry-After` seconds, for throttled answers.
    pub retry_after: Option<i64>,
    /// Facts a client needs to act on the error (what a change would lose, the plan's
    /// new fingerprint), under `error.details`.
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl ApiError {
    /// 404 for an unknown API path.
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "no such endpoint".into(),
            retry_after: None,
            details: None,
        }
    }

    /// A 409 with a stable code, a sentence and the facts to act on.
    pub fn conflict(code: &'static str, message: String, details: serde_json::Value) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            code,
            message,
            retry_after: None,
            details: Some(details),
        }
    }
}

impl From<app::error::AppError> for ApiError {
    fn from(error: app::error::AppError) -> Self {
        Self {
            status: StatusCode::from_u16(error.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: error.code(),
            message: error.to_string(),
            retry_after: error.retry_after_seconds(),
            details: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                details: self.details.as_ref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

/// A 400 naming what was wrong with a JSON body.
fn refused_body(rejection: &axum::extract::rejection::JsonRejection) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "invalid",
        message: format!("request body: {}", rejection.body_text()),
        retry_after: None,
        details: None,
    }
}

/// A JSON request body whose refusal (not JSON, wrong fields, wrong content type) is
/// answered in the API's error shape, naming what was wrong.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    axum::Json<T>:
        axum::extract::FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(refused_body(&rejection)),
        }
    }
}

impl<S, T> axum::extract::OptionalFromRequest<S> for ApiJson<T>
where
    axum::Json<T>:
        axum::extract::OptionalFromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    /// No body (no JSON content type) is `None`; a body that is not the JSON expected is
    /// refused as above.
    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match <axum::Json<T> as axum::extract::OptionalFromRequest<S>>::from_request(request, state)
            .await
        {
            Ok(value) => Ok(value.map(|axum::Json(value)| ApiJson(value))),
            Err(rejection) => Err(refused_body(&rejection)),
        }
    }
}
