//! Finding the caller of a request: an `Authorization: Bearer` API token, or else the
//! session cookie's signed-in user. Both are checked against the database, and the answer
//! kept for a few seconds (`cache`): a revocation, role change or disabled account made
//! through this console applies at the next request, one made elsewhere within about a
//! second (the credentials epoch).

use super::cache::{CacheKey, Lookup};
use super::principal::Principal;
use super::token_secret;
use crate::state::AppState;
use http::HeaderMap;
use tower_sessions::Session;
use tsdb::audit::Actor;

/// The session record's field naming the `console.user_sessions` row.
pub const SESSION_KEY: &str = "console.session_key";
/// Touched when the session is used, so the record's inactivity expiry moves too.
pub const SEEN_KEY: &str = "console.seen";

/// Why a request's credentials could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// An `Authorization` header that is not a valid, live token.
    #[error("the API token is malformed, unknown, expired or revoked")]
    BadToken,
    /// The database could not be asked; what to tell the caller (unreachable, busy, at
    /// its connection limit…).
    #[error("cannot check credentials: {0}")]
    Unavailable(crate::error::AppError),
}

/// The authenticated caller, `None` for an anonymous request.
pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    session: Option<&Session>,
) -> Result<Option<Principal>, ResolveError> {
    if let Some(header) = headers.get(http::header::AUTHORIZATION) {
        let secret = header
            .to_str()
            .ok()
            .and_then(token_secret::from_bearer)
            .ok_or(ResolveError::BadToken)?;
        let digest = token_secret::digest(secret);
        let key = CacheKey::Token(digest);
        let _alone = match state.credentials.lookup(&key).await {
            Lookup::Found(principal) => return Ok(Some(principal)),
            Lookup::Missing(alone) => alone,
        };
        let ticket = state.credentials.ticket();
        let pool = state.pool().map_err(ResolveError::Unavailable)?;
        // Also writes last_used_at: so at most once per cache lifetime per instance.
        let found = tsdb::tokens::authenticate(&pool, &digest)
            .await
            .map_err(|e| ResolveError::Unavailable(e.into()))?
            .ok_or(ResolveError::BadToken)?;
        let principal = Principal {
            actor: Actor::Token {
                id: found.id,
                name: found.name,
            },
            role: found.role,
            session_id: None,
        };
        state.credentials.store(ticket, key, principal.clone());
        return Ok(Some(principal));
    }
    let Some(session) = session else {
        return Ok(None);
    };
    // A cookie whose record cannot be decoded is treated as no session at all.
    let key = match session.get::<String>(SESSION_KEY).await {
        Ok(Some(key)) => key,
        Ok(None) => return Ok(None),
        // The store could not be asked: that is the database being away, not a bad cookie.
        Err(tower_sessions::session::Error::Store(
            tower_sessions::session_store::Error::Backend(reason),
        )) => {
            tracing::warn!(%reason, "the session store cannot be read");
            // The store's error is text; the state says why (gone, out of connections).
            let why = state
                .pool()
                .err()
                .unwrap_or(crate::error::AppError::DatabaseUnavailable);
            return Err(ResolveError::Unavailable(why));
        }
        Err(error) => {
            tracing::debug!(%error, "session record unreadable");
            return Ok(None);
        }
    };
    let cache_key = CacheKey::Session(key.clone());
    let _alone = match state.credentials.lookup(&cache_key).await {
        Lookup::Found(principal) => return Ok(Some(principal)),
        Lookup::Missing(alone) => alone,
    };
    let ticket = state.credentials.ticket();
    let pool = state.pool().map_err(ResolveError::Unavailable)?;
    let resolved = tsdb::sessions::resolve(&pool, &key, state.auth.timeouts)
        .await
        .map_err(|e| ResolveError::Unavailable(e.into()))?;
    let Some(resolved) = resolved else {
        // Ended elsewhere or timed out: drop the record so the cookie goes too.
        if let Err(error) = session.flush().await {
            tracing::warn!(%error, "cannot delete an ended session record");
        }
        return Ok(None);
    };
    if resolved.refreshed {
        let now = chrono::Utc::now().timestamp();
        if let Err(error) = session.insert(SEEN_KEY, now).await {
            tracing::warn!(%error, "cannot extend the session record");
        }
    }
    let principal = Principal {
        actor: Actor::User {
            id: resolved.user.id,
            name: resolved.user.username,
        },
        role: resolved.user.role,
        session_id: Some(resolved.session_id),
    };
    state
        .credentials
        .store(ticket, cache_key, principal.clone());
    Ok(Some(principal))
}
