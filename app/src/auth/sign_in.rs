//! Signing in and out: throttling, constant-time answers for unknown accounts, hash
//! upgrades, session id cycling, and the audit entries of each outcome.

use super::password;
use super::principal::{Principal, RequestAuth};
use super::resolve::SESSION_KEY;
use crate::error::AppError;
use crate::state::AppState;
use std::sync::OnceLock;
use tower_sessions::Session;
use tsdb::audit::{self, Actor, Entry, Outcome};
use tsdb::throttle::{self, Claim, Scope};

/// A hash of a random password, verified against when the account does not exist, so
/// an unknown name costs the same Argon2 time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut bytes = [0u8; 24];
        let _ = getrandom::getrandom(&mut bytes);
        let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        password::hash(&random).unwrap_or_default()
    })
}

/// A new session key: 256 random bits as 64 hex characters.
fn new_session_key() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| AppError::internal("no random source for a session key", e))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

async fn audit_login(
    state: &AppState,
    actor: &Actor,
    auth: &RequestAuth,
    outcome: Outcome,
    detail: &str,
) -> Result<(), AppError> {
    let pool = state.pool()?;
    audit::record(
        &pool,
        &Entry {
            actor,
            client_addr: auth.addr(),
            action: "login",
            object_type: Some("session"),
            object_id: None,
            before: None,
            after: None,
            outcome,
            detail: Some(detail),
        },
    )
    .await?;
    Ok(())
}

/// Checks the credentials and, when they are right, starts a fresh session.
pub async fn sign_in(
    state: &AppState,
    session: &Session,
    auth: &RequestAuth,
    username: &str,
    password_text: &str,
) -> Result<Principal, AppError> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::Invalid("username: enter your username".into()));
    }
    // No account has such a name: refuse it before it reaches the throttle table or
    // the audit trail (a 200 KB or NUL-carrying name was stored, or failed, before).
    if username.len() > tsdb::users::MAX_USERNAME || username.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!(
            "username: at most {} characters, without control characters",
            tsdb::users::MAX_USERNAME
        )));
    }
    if password_text.is_empty() {
        return Err(AppError::Invalid("password: enter your password".into()));
    }
    if password_text.len() > password::MAX_LENGTH {
        return Err(AppError::BadCredentials);
    }
    let pool = state.pool()?;
    let address = auth.client_addr.clone().unwrap_or_else(|| "unknown".into());
    let keys = [
        (Scope::Account, username),
        (Scope::Address, address.as_str()),
    ];
    let block_if_wrong = match throttle::claim(&pool, &keys).await? {
        Claim::Blocked(seconds) => {
            let actor = Actor::Anonymous {
                name: username.to_string(),
            };
            audit_login(state, &actor, auth, Outcome::Denied, "throttled").await?;
            return Err(AppError::Throttled(seconds));
        }
        Claim::Allowed { block_if_wrong } => block_if_wrong,
    };
    let user = tsdb::users::find_by_username(&pool, username).await?;
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_string());
    let attempt = password_text.to_string();
    // Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || password::verify(&attempt, &stored))
        .await
        .map_err(|e| AppError::internal("password check did not finish", e))?;
    let user = match user {
        Some(user) if matches => user,
        found => {
            let actor = match &found {
                Some(u) => Actor::User {
                    id: u.id,
                    name: u.username.clone(),
                },
                None => Actor::Anonymous {
                    name: username.to_string(),
                },
            };
            audit_login(
                state,
                &actor,
                auth,
                Outcome::Failure,
                "wrong username or password",
            )
            .await?;
            return Err(match block_if_wrong {
                Some(seconds) => AppError::Throttled(seconds),
                None => AppError::BadCredentials,
            });
        }
    };
    let actor = Actor::User {
        id: user.id,
        name: user.username.clone(),
    };
    if user.disabled {
        audit_login(state, &actor, auth, Outcome::Denied, "account disabled").await?;
        return Err(AppError::AccountDisabled);
    }
    let upgraded = if password::needs_rehash(&user.password_hash) {
        let attempt = password_text.to_string();
        tokio::task::spawn_blocking(move || password::hash(&attempt).ok())
            .await
            .map_err(|e| AppError::internal("password re-hash did not finish", e))?
    } else {
        None
    };
    let key = new_session_key()?;
    // Signing in again from the same browser replaces that browser's earlier session.
    let previous = session.get::<String>(SESSION_KEY).await.ok().flatten();
    let mut tx = pool.begin().await?;
    if let Some(previous) = previous {
        tsdb::sessions::end_by_key(&mut *tx, &previous).await?;
    }
    throttle::clear(&mut *tx, Scope::Account, username).await?;
    throttle::clear(&mut *tx, Scope::Address, &address).await?;
    tsdb::users::record_login(&mut *tx, user.id, upgraded.as_deref()).await?;
    let session_id = tsdb::sessions::create(
        &mut *tx,
        user.id,
        &key,
        auth.addr(),
        auth.user_agent.as_deref(),
    )
    .await?;
    let detail = if upgraded.is_some() {
        "signed in; password hash upgraded"
    } else {
        "signed in"
    };
    audit::record(
        &mut *tx,
        &Entry {
            actor: &actor,
            client_addr: auth.addr(),
            action: "login",
            object_type: Some("session"),
            object_id: Some(&session_id.to_string()),
            before: None,
            after: None,
            outcome: Outcome::Success,
            detail: Some(detail),
        },
    )
    .await?;
    tx.commit().await?;
    // A new id for the signed-in session: an id planted before login (fixation) is
    // worthless afterwards.
    session.cycle_id().await.map_err(session_error)?;
    session.clear().await;
    session
        .insert(SESSION_KEY, &key)
        .await
        .map_err(session_error)?;
    Ok(Principal {
        actor,
        role: user.role,
        session_id: Some(session_id),
    })
}

/// Ends the caller's session: the row, the record and the cookie.
pub async fn sign_out(
    state: &AppState,
    session: &Session,
    auth: &RequestAuth,
) -> Result<(), AppError> {
    let key = session.get::<String>(SESSION_KEY).await.ok().flatten();
    if let (Some(key), Some(principal)) = (key, auth.principal.as_ref()) {
        let pool = state.pool()?;
        let mut tx = pool.begin().await?;
        tsdb::sessions::end_by_key(&mut *tx, &key).await?;
        audit::record(
            &mut *tx,
            &Entry {
                actor: &principal.actor,
                client_addr: auth.addr(),
                action: "logout",
                object_type: Some("session"),
                object_id: principal.session_id.map(|id| id.to_string()).as_deref(),
                before: None,
                after: None,
                outcome: Outcome::Success,
                detail: None,
            },
        )
        .await?;
        tx.commit().await?;
    }
    session.flush().await.map_err(session_error)?;
    Ok(())
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    AppError::internal("session store failed", error)
}
