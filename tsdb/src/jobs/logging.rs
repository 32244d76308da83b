//! TimescaleDB's execution logging (`timescaledb.enable_job_execution_logging`, 2.15 on):
//! off by default, and while off `job_history` lists failed runs only. Reading it, and
//! turning it on for the whole server (`ALTER SYSTEM` + reload) where the console's role
//! may.

use super::ExecutionLogging;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::capabilities::Capabilities;
use crate::{Error, Result};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

const SETTING: &str = "timescaledb.enable_job_execution_logging";

/// Whether successful runs are recorded, and whether the console could change that.
pub async fn state(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
) -> Result<ExecutionLogging> {
    if !capabilities.has_job_history() {
        return Ok(ExecutionLogging {
            history_available: false,
            enabled: false,
            can_enable: false,
        });
    }
    let enabled: Option<String> = sqlx::query_scalar("SELECT current_setting($1, true)")
        .bind(SETTING)
        .fetch_one(&mut *conn)
        .await?;
    // ALTER SYSTEM needs a superuser, or (PostgreSQL 15 on) a grant on the parameter;
    // has_parameter_privilege does not exist before 15.
    let can_enable: bool = if capabilities.server_version_num >= 150_000 {
        sqlx::query_scalar(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                    OR has_parameter_privilege($1, 'ALTER SYSTEM')",
        )
        .bind(SETTING)
        .fetch_one(&mut *conn)
        .await?
    } else {
        sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut *conn)
            .await?
    };
    Ok(ExecutionLogging {
        history_available: true,
        enabled: enabled.as_deref() == Some("on"),
        can_enable,
    })
}

/// Turns execution logging on for the server and reloads its configuration; audited.
pub async fn enable(
    pool: &PgPool,
    capabilities: &Capabilities,
    actor: &Actor,
    client_addr: Option<&str>,
) -> Result<()> {
    capabilities.require_timescaledb()?;
    let mut conn = pool.acquire().await?;
    let before = state(&mut conn, capabilities).await?;
    if !before.history_available {
        return Err(Error::Invalid(
            "execution logging needs TimescaleDB 2.15 or later".into(),
        ));
    }
    if before.enabled {
        return Ok(());
    }
    if !before.can_enable {
        return Err(Error::Invalid(format!(
            "the console's database role may not change {SETTING}: ask a database superuser to run ALTER SYSTEM SET {SETTING} = on; SELECT pg_reload_conf();"
        )));
    }
    // ALTER SYSTEM cannot run in a transaction: the audit row follows it.
    let changed = async {
        sqlx::query(&format!("ALTER SYSTEM SET {SETTING} = on"))
            .execute(&mut *conn)
            .await?;
        sqlx::query("SELECT pg_reload_conf()")
            .execute(&mut *conn)
            .await?;
        Ok::<_, Error>(())
    }
    .await;
    audit::record(
        &mut *conn,
        &Entry {
            actor,
            client_addr,
            action: "job_logging.enable",
            object_type: Some("setting"),
            object_id: Some(SETTING),
            before: Some(json!({"enabled": false})),
            after: Some(json!({"enabled": changed.is_ok()})),
            outcome: if changed.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            detail: changed.as_ref().err().map(|e| e.to_string()).as_deref(),
        },
    )
    .await?;
    changed
}
