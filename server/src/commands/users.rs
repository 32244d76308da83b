//! `ms5-console users add`: creates an account from the command line. The password is
//! read from standard input (never from the arguments, which other users can see in the
//! process list): typed twice without echo on a terminal, or one line from a pipe.

use super::{connect_and_migrate, CommandError};
use crate::config::Settings;
use app::auth::password;
use std::io::{BufRead, IsTerminal};
use tsdb::audit::Actor;
use tsdb::types::Role;
use tsdb::users::NewUser;

/// Creates the account `username` with `role`; the password comes from standard input.
pub async fn add(settings: &Settings, username: &str, role: Role) -> Result<(), CommandError> {
    // Read the password before connecting: a wrong one should not cost a connection.
    let password = read_password().map_err(CommandError::Refused)?;
    let connected = connect_and_migrate(settings).await?;
    let outcome = create(&connected.pool, username, role, &password).await;
    connected.pool.close().await;
    let user = outcome?;
    println!("created {} {:?} (id {})", user.role, user.username, user.id);
    Ok(())
}

/// Reads the new password from standard input.
fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let second = rpassword::prompt_password("Repeat password: ").map_err(|e| e.to_string())?;
        if first != second {
            return Err("the two passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            return Err("no password on standard input: pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | ms5-console users add NAME`".into());
        }
        Ok(password)
    }
}

/// Validates, hashes and stores the account; the audit trail names the command line.
async fn create(
    pool: &sqlx::PgPool,
    username: &str,
    role: Role,
    password: &str,
) -> Result<tsdb::users::User, CommandError> {
    tsdb::users::validate_username(username).map_err(|e| CommandError::Refused(e.to_string()))?;
    password::check_policy(username, password).map_err(|e| CommandError::Refused(e.to_string()))?;
    let hash = password::hash(password).map_err(|e| CommandError::Refused(e.to_string()))?;
    let user = tsdb::users::create(
        pool,
        &Actor::System,
        Some("command line"),
        NewUser {
            username,
            role,
            password_hash: &hash,
        },
    )
    .await?;
    Ok(user)
}
