//! The guard in front of every request: refuses cross-site writes, finds the caller
//! (API token or session), enforces the access table of server functions, REST routes
//! and pages, and hands the caller to the handler. Handlers check the role again
//! themselves; this layer makes a route without an access rule unreachable.

use super::{csrf, page_status};
use crate::api;
use crate::api::error::ApiError;
use app::auth::access::{self, Access};
use app::auth::resolve::{resolve, ResolveError};
use app::auth::{Principal, RequestAuth};
use app::error::AppError;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use tower_sessions::Session;

/// What kind of route a request is for; each answers refusals in its own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ServerFn,
    Rest,
    Page,
    Asset,
}

fn kind(method: &Method, path: &str) -> Kind {
    // The site's files live in known places only: its folders, and files at the root
    // (`/favicon.svg`, and what browsers ask for by themselves: `/favicon.ico`). A dot
    // deeper in a page's address (a table named `alarms.x`) does not make it a file.
    let root_file = path.rfind('/') == Some(0) && path.contains('.');
    let asset = path.starts_with("/pkg/") || path.starts_with("/vendor/") || root_file;
    if path.starts_with("/api/fn/") {
        Kind::ServerFn
    } else if path.starts_with("/api/") || path == "/metrics" {
        Kind::Rest
    } else if (method == Method::GET || method == Method::HEAD) && !asset {
        Kind::Page
    } else {
        Kind::Asset
    }
}

/// A refusal in the format the route kind speaks.
fn refuse(kind: Kind, error: AppError) -> Response {
    match kind {
        Kind::ServerFn => {
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::to_string(&error).unwrap_or_default();
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        _ => ApiError::from(error).into_response(),
    }
}

/// Runs before every request.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let kind = kind(&method, &path);
    if kind == Kind::Asset {
        // A missing asset is answered by the app's not-found page, rendered on the server
        // like any page: it needs a (signed-out) caller, but not a database look-up.
        request.extensions_mut().insert(RequestAuth {
            principal: None,
            client_addr: None,
            user_agent: None,
        });
        return next.run(request).await;
    }
    let required = match kind {
        Kind::ServerFn => access::server_fn_access(&path),
        Kind::Rest => api::access(&method, &path, state.auth.metrics_public),
        Kind::Page => Some(access::page_access(&path)),
        Kind::Asset => Some(Access::Public),
    };
    let Some(required) = required else {
        // Not in the access table: unknown, or added without a rule. Either way, closed.
        if kind == Kind::ServerFn {
            tracing::warn!(%path, "server function without an access rule refused");
            return refuse(kind, AppError::NotFound("no such server function".into()));
        }
        let allowed = api::methods_at(&path);
        if kind == Kind::Rest && !allowed.is_empty() {
            return method_not_allowed(&method, &allowed);
        }
        return ApiError::not_found().into_response();
    };
    let headers = request.headers();
    let bearer = headers.contains_key(header::AUTHORIZATION);
    let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let forwarded = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| state.trusted_proxies.resolve(peer.ip(), headers));
    // A REST call without a session cookie carries no ambient credentials a cross-site
    // page could borrow: it is simply unauthenticated (401 below). Server functions are
    // checked always: signing in must not be forced from another site either.
    let ambient = kind != Kind::Rest || headers.contains_key(header::COOKIE);
    if !safe && !bearer && ambient {
        let (scheme, host) = match &forwarded {
            Some(forwarded) => (forwarded.scheme, forwarded.host.as_deref()),
            None => (
                "http",
                headers.get(header::HOST).and_then(|v| v.to_str().ok()),
            ),
        };
        if let Err(reason) = csrf::check(headers, scheme, host) {
            tracing::warn!(%path, %reason, "cross-site request refused");
            return refuse(kind, AppError::CrossSite);
        }
    }
    let client_addr = forwarded.map(|forwarded| forwarded.client.to_string());
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Public REST (health) answers without touching the database.
    let principal = if kind == Kind::Rest && required == Access::Public && !bearer {
        None
    } else {
        let session = request.extensions().get::<Session>().cloned();
        match resolve(&state, request.headers(), session.as_ref()).await {
            Ok(principal) => principal,
            Err(ResolveError::BadToken) => return refuse(kind, AppError::BadToken),
            Err(ResolveError::Unavailable(error)) if required != Access::Public => {
                tracing::warn!(%error, "cannot check credentials");
                if kind == Kind::Page {
                    return database_down_page(&error);
                }
                return refuse(kind, error);
            }
            Err(ResolveError::Unavailable(_)) => None,
        }
    };
    let mut allowed = true;
    if let Access::Role(role) = required {
        match &principal {
            None if kind == Kind::Page => return login_redirect(&request),
            None => return refuse(kind, AppError::Unauthenticated),
            Some(Principal { role: held, .. }) if !held.includes(role) => {
                if kind != Kind::Page {
                    return refuse(kind, AppError::Forbidden);
                }
                // Pages render their own "not allowed" explanation.
                allowed = false;
            }
            Some(_) => {}
        }
    }
    request.extensions_mut().insert(RequestAuth {
        principal,
        client_addr,
        user_agent,
    });
    let page_status = (kind == Kind::Page && allowed)
        .then(|| page_status::status(&state, &path, request.uri().query()))
        .flatten();
    let response = next.run(request).await;
    if !safe {
        // It may have changed who may do what (sign-out, revocation, a role): credentials
        // verified before are asked again at the next request.
        state.credentials.forget_all();
    }
    match kind {
        Kind::ServerFn => with_error_status(response).await,
        Kind::Page if !allowed => {
            let mut response = response;
            *response.status_mut() = StatusCode::FORBIDDEN;
            response
        }
        Kind::Page => {
            let mut response = response;
            if let Some(status) = page_status {
                *response.status_mut() = status;
            }
            response
        }
        _ => response,
    }
}

/// `405` with the methods the path does answer.
fn method_not_allowed(method: &Method, allowed: &[Method]) -> Response {
    let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
    let mut response = ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{method} is not answered here; use {}", list.join(" or ")),
        retry_after: None,
        details: None,
    }
    .into_response();
    if let Ok(value) = header::HeaderValue::from_str(&list.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// What a browser sees when sessions cannot be checked because the database is away,
/// full or failing: plain HTML saying which (the app itself needs the database to know
/// who is asking), retrying by itself every ten seconds.
fn database_down_page(error: &AppError) -> Response {
    let title = match error {
        AppError::DatabaseUnavailable => "Database unavailable",
        AppError::ConnectionLimit => "Database out of connections",
        AppError::DiskFull => "Database disk full",
        AppError::DatabaseBusy | AppError::StatementCancelled => "Database busy",
        _ => "Your sign-in cannot be checked",
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"10\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/pkg/ms5-console.css\"><link rel=\"icon\" href=\"/favicon.svg\"></head><body><main>\
         <section class=\"panel\" data-testid=\"database-down\" data-code=\"{}\"><h1>{title}</h1>\
         <p>{error}</p><p class=\"muted\">This page retries every 10 seconds. Machine-readable status: \
         <a href=\"/api/v1/monitoring/health\">/api/v1/monitoring/health</a>.</p></section></main></body></html>",
        error.code()
    );
    (
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Sends a signed-out browser to the login page, remembering where it was going.
fn login_redirect(request: &Request) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let next = app::url::encode(target, true);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// Server functions answer every error with 500; give each error its own status, read
/// from the error itself, so clients and logs see 400, 404, 409, 429…
async fn with_error_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status()) {
            parts.status = status;
        }
        if let Some(seconds) = error.retry_after_seconds() {
            parts
                .headers
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
