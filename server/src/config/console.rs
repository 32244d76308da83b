//! Where the console listens, which database it uses, its profile and its logging.

use super::setting::{parse_count, parse_database_url, Setting};
use super::{redact_url, LogLevel, Profile};
use std::path::PathBuf;

/// The console's own settings, in the order they are checked and reported.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "DATABASE_URL",
        section: "console",
        key: "database_url",
        default: None,
        description: "the PostgreSQL database with TimescaleDB (password redacted when shown)",
        apply: |d, raw| {
            d.settings.database_url = Some(parse_database_url(raw)?);
            Ok(())
        },
        show: |s| {
            s.database_url
                .as_deref()
                .map_or_else(|| "(not set)".to_string(), redact_url)
        },
    },
    Setting {
        env: "MS5_LISTEN_ADDR",
        section: "console",
        key: "listen_addr",
        default: Some("127.0.0.1:3000"),
        description: "address and port the console serves on",
        apply: |d, raw| {
            d.settings.listen_addr = raw
                .trim()
                .parse()
                .map_err(|_| "an address and port such as 127.0.0.1:3000 or [::1]:3000")?;
            Ok(())
        },
        show: |s| s.listen_addr.to_string(),
    },
    Setting {
        env: "MS5_ENV",
        section: "console",
        key: "env",
        default: Some("production"),
        description: "profile: production refuses demo data; development turns it on",
        apply: |d, raw| {
            d.settings.profile = Profile::parse(raw)?;
            Ok(())
        },
        show: |s| s.profile.to_string(),
    },
    Setting {
        env: "MS5_LOG_LEVEL",
        section: "console",
        key: "log_level",
        default: Some("info"),
        description: "log verbosity (RUST_LOG refines it)",
        apply: |d, raw| {
            d.settings.log_level = LogLevel::parse(raw)?;
            Ok(())
        },
        show: |s| s.log_level.as_str().into(),
    },
    Setting {
        env: "MS5_DB_MAX_CONNECTIONS",
        section: "console",
        key: "db_max_connections",
        default: Some("10"),
        description: "pool size upper bound; a server accepting one connection at a time gets 1",
        apply: |d, raw| {
            d.settings.db_max_connections = parse_count(raw, 1, 1000)?;
            Ok(())
        },
        show: |s| s.db_max_connections.to_string(),
    },
    Setting {
        env: "MS5_SITE_ROOT",
        section: "console",
        key: "site_root",
        default: None,
        description: "directory of the built site (WASM, CSS, assets); unset: the site a release binary carries, else target/site",
        apply: |d, raw| {
            if raw.trim().is_empty() || raw.chars().any(char::is_control) {
                return Err("a directory path without control characters".into());
            }
            d.settings.site_root = Some(PathBuf::from(raw.trim()));
            Ok(())
        },
        show: |s| match &s.site_root {
            Some(dir) => dir.display().to_string(),
            None if crate::site::is_embedded() => "(the site built into this binary)".into(),
            None => crate::site::DEFAULT_ROOT.into(),
        },
    },
];
