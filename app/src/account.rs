//! Server functions of one's own account: who am I, sign in and out, change password,
//! list and end one's sessions.

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::access_types::{CurrentUser, SessionSummary};

/// Where to go after signing in: a path on this site, never another site (`//host`) and
/// never back to the login page. Browsers drop tabs and line breaks from addresses
/// (`/<tab>/evil.example` becomes `//evil.example`), so any control character or white
/// space refuses the path; a real one arrives percent-encoded.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(path)
            if path.starts_with('/')
                && !path[1..].starts_with(['/', '\\'])
                && !path.starts_with("/login")
                && !path.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(feature = "ssr")]
async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract()
        .await
        .map_err(|e| AppError::internal("session layer missing", e))
}

/// The caller, or `None` when nobody is signed in.
#[server(prefix = "/api/fn", endpoint = "current-user")]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    let auth = crate::auth::request_auth().await?;
    Ok(auth.principal.map(|p| p.current_user()))
}

/// Signs in; returns the path to go to next.
#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    let state = crate::state::app_state()?;
    let auth = crate::auth::request_auth().await?;
    let session = session().await?;
    crate::auth::sign_in::sign_in(&state, &session, &auth, &username, &password).await?;
    Ok(safe_next(next.as_deref()))
}

/// Signs out (harmless when already signed out).
#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let auth = crate::auth::request_auth().await?;
    let session = session().await?;
    crate::auth::sign_in::sign_out(&state, &session, &auth).await
}

/// The caller's own sessions.
#[server(prefix = "/api/fn", endpoint = "my-sessions")]
pub async fn my_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let user_id = principal
        .user_id()
        .ok_or_else(|| AppError::Invalid("API tokens have no sessions".into()))?;
    let state = crate::state::app_state()?;
    tsdb::sessions::list_for_user(
        &state.pool()?,
        user_id,
        principal.session_id,
        state.auth.timeouts,
    )
    .await
    .map_err(AppError::from)
}

/// Signs out one of the caller's sessions (another browser, a lost laptop).
#[server(prefix = "/api/fn", endpoint = "end-session")]
pub async fn end_session(id: i64) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let user_id = principal
        .user_id()
        .ok_or_else(|| AppError::Invalid("API tokens have no sessions".into()))?;
    let state = crate::state::app_state()?;
    let ended =
        tsdb::sessions::end(&state.pool()?, &principal.actor, auth.addr(), user_id, id).await?;
    if ended {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "session {id}: not one of your active sessions"
        )))
    }
}

/// Changes the caller's password; their other sessions are signed out.
#[server(prefix = "/api/fn", endpoint = "change-password")]
pub async fn change_password(
    current: String,
    new_password: String,
    confirm: String,
) -> Result<u64, AppError> {
    use crate::auth::password;
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let user_id = principal
        .user_id()
        .ok_or_else(|| AppError::Invalid("API tokens have no password".into()))?;
    if new_password != confirm {
        return Err(AppError::Invalid(
            "confirm: the two new passwords differ".into(),
        ));
    }
    password::check_policy(principal.name(), &new_password)
        .map_err(|e| AppError::Invalid(format!("new password: {e}")))?;
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    let user = tsdb::users::find_by_id(&pool, user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let hash = tokio::task::spawn_blocking(move || {
        password::verify(&current, &user.password_hash)
            .then(|| password::hash(&new_password))
            .transpose()
    })
    .await
    .map_err(|e| AppError::internal("password hashing did not finish", e))?
    .map_err(|e| AppError::internal("password hashing failed", e))?
    .ok_or_else(|| AppError::Invalid("current password: not your current password".into()))?;
    tsdb::users::set_password(
        &pool,
        &principal.actor,
        auth.addr(),
        user_id,
        &hash,
        tsdb::users::PasswordChange::Own {
            keep_session: principal.session_id,
        },
    )
    .await
    .map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_next(Some("/admin/users?x=1")), "/admin/users?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        // Browsers strip tabs and line breaks: these would become //evil.example.
        for sneaky in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /x",
            "/a\u{0}b",
        ] {
            assert_eq!(safe_next(Some(sneaky)), "/", "{sneaky:?}");
        }
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/login?next=/x")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
