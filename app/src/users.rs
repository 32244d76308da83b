//! Server functions of user management (admins only).

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::access_types::UserSummary;

#[cfg(feature = "ssr")]
fn parse_role(text: &str) -> Result<tsdb::types::Role, AppError> {
    text.parse()
        .map_err(|e: String| AppError::Invalid(format!("role {text:?}: {e}")))
}

/// Every account.
#[server(prefix = "/api/fn", endpoint = "users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    tsdb::users::list(&state.pool()?, state.auth.timeouts.idle)
        .await
        .map_err(AppError::from)
}

/// Creates an account with an initial password.
#[server(prefix = "/api/fn", endpoint = "create-user")]
pub async fn create_user(username: String, role: String, password: String) -> Result<(), AppError> {
    use crate::auth::password as pw;
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let username = username.trim().to_string();
    tsdb::users::validate_username(&username)?;
    let role = parse_role(&role)?;
    pw::check_policy(&username, &password)
        .map_err(|e| AppError::Invalid(format!("password: {e}")))?;
    let hash = tokio::task::spawn_blocking(move || pw::hash(&password))
        .await
        .map_err(|e| AppError::internal("password hashing did not finish", e))?
        .map_err(|e| AppError::internal("password hashing failed", e))?;
    let state = crate::state::app_state()?;
    tsdb::users::create(
        &state.pool()?,
        &principal.actor,
        auth.addr(),
        tsdb::users::NewUser {
            username: &username,
            role,
            password_hash: &hash,
        },
    )
    .await?;
    Ok(())
}

/// Changes an account's role, or disables / enables it.
#[server(prefix = "/api/fn", endpoint = "update-user")]
pub async fn update_user(
    id: i64,
    role: Option<String>,
    disabled: Option<bool>,
) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let role = role
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(parse_role)
        .transpose()?;
    if role.is_none() && disabled.is_none() {
        return Err(AppError::Invalid(
            "role or disabled: give at least one change".into(),
        ));
    }
    let state = crate::state::app_state()?;
    tsdb::users::update(
        &state.pool()?,
        &principal.actor,
        auth.addr(),
        id,
        tsdb::users::Change { role, disabled },
    )
    .await?;
    Ok(())
}

/// Sets a new password for an account and signs all its sessions out.
#[server(prefix = "/api/fn", endpoint = "reset-password")]
pub async fn reset_password(id: i64, password: String) -> Result<(), AppError> {
    use crate::auth::password as pw;
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    let user = tsdb::users::find_by_id(&pool, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no user with id {id}")))?;
    pw::check_policy(&user.username, &password)
        .map_err(|e| AppError::Invalid(format!("password: {e}")))?;
    let hash = tokio::task::spawn_blocking(move || pw::hash(&password))
        .await
        .map_err(|e| AppError::internal("password hashing did not finish", e))?
        .map_err(|e| AppError::internal("password hashing failed", e))?;
    tsdb::users::set_password(
        &pool,
        &principal.actor,
        auth.addr(),
        id,
        &hash,
        tsdb::users::PasswordChange::Reset,
    )
    .await?;
    Ok(())
}
