//! Server functions of API token management (admins only).

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::access_types::{CreatedToken, TokenSummary};

/// Longest token lifetime an admin may choose, in days.
pub const MAX_TOKEN_DAYS: u32 = 730;

/// Every token, newest first.
#[server(prefix = "/api/fn", endpoint = "tokens")]
pub async fn list_tokens() -> Result<Vec<TokenSummary>, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    tsdb::tokens::list(&state.pool()?)
        .await
        .map_err(AppError::from)
}

/// Creates a token; its secret is in the answer and nowhere else, ever.
#[server(prefix = "/api/fn", endpoint = "create-token")]
pub async fn create_token(
    name: String,
    role: String,
    days: String,
) -> Result<CreatedToken, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let role: tsdb::types::Role = role
        .parse()
        .map_err(|e: String| AppError::Invalid(format!("role {role:?}: {e}")))?;
    let days: u32 = days
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=MAX_TOKEN_DAYS).contains(d))
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "expires in {days:?}: expected a whole number of days from 1 to {MAX_TOKEN_DAYS}"
            ))
        })?;
    let generated = crate::auth::token_secret::generate()
        .map_err(|e| AppError::internal("no random source for a token", e))?;
    let state = crate::state::app_state()?;
    let token = tsdb::tokens::create(
        &state.pool()?,
        &principal.actor,
        auth.addr(),
        tsdb::tokens::NewToken {
            name: &name,
            role,
            prefix: &generated.prefix,
            sha256: generated.sha256,
            expires_at: chrono::Utc::now() + chrono::Duration::days(i64::from(days)),
            created_by: principal.user_id(),
        },
    )
    .await?;
    Ok(CreatedToken {
        token,
        secret: generated.secret,
    })
}

/// Revokes a token; calls with it are refused from the next request on.
#[server(prefix = "/api/fn", endpoint = "revoke-token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    let found = tsdb::tokens::revoke(&state.pool()?, &principal.actor, auth.addr(), id).await?;
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("no token with id {id}")))
    }
}
