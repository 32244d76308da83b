//! What the connected server can do, probed once at connect time.
//!
//! Version-dependent SQL (the 2.18 columnstore renames) asks this value instead of
//! comparing version numbers in scattered places.

use crate::{Error, Result};
use sqlx::PgExecutor;
use std::fmt;

/// The oldest TimescaleDB release the console supports.
pub const MIN_SUPPORTED: TimescaleVersion = TimescaleVersion {
    major: 2,
    minor: 13,
    patch: 0,
};

/// A TimescaleDB release number; pre-release suffixes (`-dev`) are kept only for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimescaleVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl TimescaleVersion {
    /// Parses `2.23.0-dev`, `2.13.1` or `2.14`.
    pub fn parse(text: &str) -> Option<Self> {
        let core = text.split(['-', '+', ' ']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = parts.next().unwrap_or(Some(0))?;
        Some(Self {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for TimescaleVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The facts about a server that decide which SQL the engine sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `server_version_num`, e.g. 170005.
    pub server_version_num: i32,
    /// Human-readable PostgreSQL version, e.g. `17.5`.
    pub server_version: String,
    /// The installed extension version as reported (`2.23.0-dev`), if installed.
    pub timescaledb_reported: Option<String>,
    /// The parsed extension version, if installed and parseable.
    pub timescaledb: Option<TimescaleVersion>,
    /// Whether the extension could be installed here (`pg_available_extensions`).
    pub timescaledb_available: bool,
}

impl Capabilities {
    /// Reads the server and extension versions.
    pub async fn probe(executor: impl PgExecutor<'_>) -> Result<Self> {
        let row: (String, String, Option<String>, bool) = sqlx::query_as(
            "SELECT current_setting('server_version_num'),
                    current_setting('server_version'),
                    (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),
                    EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')",
        )
        .fetch_one(executor)
        .await?;
        let server_version_num = row.0.parse().map_err(|_| {
            Error::Unexpected(format!("server_version_num is not a number: {:?}", row.0))
        })?;
        Ok(Self {
            server_version_num,
            server_version: row.1,
            timescaledb: row.2.as_deref().and_then(TimescaleVersion::parse),
            timescaledb_reported: row.2,
            timescaledb_available: row.3,
        })
    }

    /// `Ok` when TimescaleDB is installed in a supported version, else why not.
    pub fn require_timescaledb(&self) -> Result<TimescaleVersion> {
        match (&self.timescaledb_reported, self.timescaledb) {
            (None, _) => Err(Error::ExtensionMissing),
            (Some(found), None) => Err(Error::UnsupportedVersion {
                found: found.clone(),
            }),
            (Some(found), Some(version)) if version < MIN_SUPPORTED => {
                Err(Error::UnsupportedVersion {
                    found: found.clone(),
                })
            }
            (_, Some(version)) => Ok(version),
        }
    }

    /// Whether the 2.18 columnstore names (`add_columnstore_policy`, …) are the current ones.
    pub fn uses_columnstore_names(&self) -> bool {
        self.timescaledb.is_some_and(|v| {
            v >= TimescaleVersion {
                major: 2,
                minor: 18,
                patch: 0,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(version: Option<&str>) -> Capabilities {
        Capabilities {
            server_version_num: 170005,
            server_version: "17.5".into(),
            timescaledb_reported: version.map(str::to_owned),
            timescaledb: version.and_then(TimescaleVersion::parse),
            timescaledb_available: true,
        }
    }

    #[test]
    fn parses_release_and_dev_versions() {
        let v = TimescaleVersion::parse("2.23.0-dev").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (2, 23, 0));
        assert_eq!(
            TimescaleVersion::parse("2.14").unwrap().to_string(),
            "2.14.0"
        );
        assert!(TimescaleVersion::parse("two").is_none());
    }

    #[test]
    fn version_gates() {
        assert!(caps(Some("2.23.0-dev")).uses_columnstore_names());
        assert!(!caps(Some("2.17.2")).uses_columnstore_names());
        assert!(caps(Some("2.13.0")).require_timescaledb().is_ok());
        assert!(matches!(
            caps(Some("2.12.9")).require_timescaledb(),
            Err(Error::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            caps(None).require_timescaledb(),
            Err(Error::ExtensionMissing)
        ));
    }
}
