//! The HTTP application: REST API, server functions, pages and static files in one router.

mod csrf;
mod guard;
mod headers;
mod idle;
pub mod limits;
pub mod listener;
mod page_status;
pub mod static_files;

use crate::api;
use crate::api::error::ApiError;
use app::auth::store::ConsoleSessionStore;
use app::state::AppState;
use app::{shell, App};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Builds the whole router around `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let page_state = state.clone();
    let fallback_state = state.clone();
    let shell_options = state.leptos_options.clone();
    let site_root = std::path::PathBuf::from(state.leptos_options.site_root.as_ref());
    let precompressed = static_files::prune_stale(&site_root).is_some();
    Router::new()
        .merge(api::router())
        .merge(static_files::routes(&site_root, precompressed))
        // Unknown API paths get the API's JSON error, not an HTML page.
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async { ApiError::not_found() }),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(page_state.clone()),
            move || shell(shell_options.clone()),
        )
        // Anything else (the favicon, unknown paths) from the site root, or the app's
        // "not found" page.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || provide_context(fallback_state.clone()), shell
        ))
        // Layers run bottom-up: the session is attached before the guard reads it.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .layer(session_layer(&state))
        // JSON, CSV, JavaScript and WASM without a precompressed sibling, gzip or brotli
        // as the client asks. Not pages: a compressor holds streamed HTML back until its
        // buffer fills, and the page's later parts would arrive all at once.
        .layer(
            CompressionLayer::new().compress_when(
                DefaultPredicate::new().and(NotForContentType::const_new("text/html")),
            ),
        )
        // Outermost but the trace: refusals from the guard carry the headers too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        // Handlers log their own failures with context; the trace layer only adds timing.
        .layer(
            TraceLayer::new_for_http()
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .with_state(state)
}

/// The session cookie: `HttpOnly`, `SameSite=Lax`, `Secure` outside development, and
/// expiring after the idle time-out without requests.
fn session_layer(state: &AppState) -> SessionManagerLayer<ConsoleSessionStore> {
    let idle = time::Duration::seconds(
        i64::try_from(state.auth.timeouts.idle.as_secs()).unwrap_or(i64::MAX),
    );
    SessionManagerLayer::new(ConsoleSessionStore::new(state.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.auth.secure_cookie)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ms5_session";
