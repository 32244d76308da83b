//! One configuration setting, declared once: its environment variable, its place in the
//! TOML file, its default, how its text is parsed into the settings, how it is shown and
//! what it means. Loading, `config check` and the configuration endpoint all walk the
//! same table, so a new setting is one entry (plus its field).

use super::{Draft, Settings};
use std::str::FromStr;

/// A setting known by an environment variable and a `[section] key` in the TOML file.
pub struct Setting {
    /// The environment variable, e.g. `MS5_LISTEN_ADDR`.
    pub env: &'static str,
    /// The TOML section, e.g. `console`.
    pub section: &'static str,
    /// The key inside the section, e.g. `listen_addr`.
    pub key: &'static str,
    /// The default as text, parsed like any given value; `None`: unset unless given.
    pub default: Option<&'static str>,
    /// What the setting does, in one line.
    pub description: &'static str,
    /// Parses `raw` into the draft; the error is the accepted form ("expected …").
    pub apply: fn(&mut Draft, &str) -> Result<(), String>,
    /// The effective value as text, secrets redacted.
    pub show: fn(&Settings) -> String,
}

/// A whole number in `min..=max`.
pub fn parse_count(raw: &str, min: u32, max: u32) -> Result<u32, String> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("a whole number from {min} to {max}"))
}

/// A PostgreSQL URL sqlx accepts.
pub fn parse_database_url(raw: &str) -> Result<String, String> {
    let accepted = "a PostgreSQL URL such as postgres://user:password@host:5432/database";
    let trimmed = raw.trim();
    if !(trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://")) {
        return Err(accepted.into());
    }
    sqlx::postgres::PgConnectOptions::from_str(trimmed).map_err(|_| accepted.to_string())?;
    Ok(trimmed.to_string())
}
