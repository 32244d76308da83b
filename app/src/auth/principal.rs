//! Who is making a request, as the server's guard found it, and the role check every
//! server function starts with.

use crate::error::AppError;
use tsdb::access_types::CurrentUser;
use tsdb::audit::Actor;
use tsdb::types::Role;

/// An authenticated caller: a signed-in user or an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// For the audit trail.
    pub actor: Actor,
    /// What they may do, as the database said at most `cache::FRESH_FOR` ago (and before
    /// any change to credentials since).
    pub role: Role,
    /// The user's session (`console.user_sessions.id`); `None` for tokens.
    pub session_id: Option<i64>,
}

impl Principal {
    /// The name shown for this caller.
    pub fn name(&self) -> &str {
        match &self.actor {
            Actor::User { name, .. } | Actor::Token { name, .. } => name,
            Actor::Anonymous { name } => name,
            Actor::System => "console",
        }
    }

    /// The signed-in user's id; `None` for tokens.
    pub fn user_id(&self) -> Option<i64> {
        match self.actor {
            Actor::User { id, .. } => Some(id),
            _ => None,
        }
    }

    /// What the browser may know about this caller.
    pub fn current_user(&self) -> CurrentUser {
        CurrentUser {
            name: self.name().to_string(),
            role: self.role,
            is_token: matches!(self.actor, Actor::Token { .. }),
        }
    }
}

/// What the guard attached to the request: the caller (if any) and where they are.
#[derive(Debug, Clone, Default)]
pub struct RequestAuth {
    /// The authenticated caller.
    pub principal: Option<Principal>,
    /// Client address, for throttling and the audit trail.
    pub client_addr: Option<String>,
    /// The browser's user agent, for the session list.
    pub user_agent: Option<String>,
}

impl RequestAuth {
    /// The caller if they hold `role`: 401 without a caller, 403 with too small a role.
    pub fn require(&self, role: Role) -> Result<&Principal, AppError> {
        let principal = self.principal.as_ref().ok_or(AppError::Unauthenticated)?;
        if principal.role.includes(role) {
            Ok(principal)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The address as the audit trail records it.
    pub fn addr(&self) -> Option<&str> {
        self.client_addr.as_deref()
    }
}

/// The request's authentication, inside a server function.
pub async fn request_auth() -> Result<RequestAuth, AppError> {
    let axum::Extension(auth): axum::Extension<RequestAuth> = leptos_axum::extract()
        .await
        .map_err(|e| AppError::internal("request authentication missing", e))?;
    Ok(auth)
}

/// The caller if they hold `role`, with the request's details; every server function
/// that is not public starts here.
pub async fn require(role: Role) -> Result<(Principal, RequestAuth), AppError> {
    let auth = request_auth().await?;
    let principal = auth.require(role)?.clone();
    Ok((principal, auth))
}
