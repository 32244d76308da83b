//! `ms5-console users add`: creates an account from the command line. The password is
//! read from standard input (never from the arguments, which other users can see in the
//! process list): typed twice without echo on a terminal, or one line from a pipe.

use app::auth::password;
use std::io::{BufRead, IsTerminal};
use tsdb::accounts::NewUser;
use tsdb::audit::Actor;
use tsdb::types::Role;

/// Reads the new password from standard input.
pub fn read_password() -> Result<String, String> {
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
pub async fn add(
    pool: &sqlx::PgPool,
    username: &str,
    role: Role,
    password: &str,
) -> Result<tsdb::accounts::User, String> {
    tsdb::accounts::validate_username(username).map_err(|e| e.to_string())?;
    password::check_policy(username, password).map_err(|e| e.to_string())?;
    let hash = password::hash(password).map_err(|e| e.to_string())?;
    tsdb::accounts::create(
        pool,
        &Actor::System,
        Some("command line"),
        NewUser {
            username,
            role,
            password_hash: &hash,
        },
    )
    .await
    .map_err(|e| e.to_string())
}
