//! What the connected server can do, probed once at connect time (and again when the
//! database comes back).
//!
//! Version-dependent SQL (the 2.18 columnstore renames, the catalog's shape) asks this
//! value instead of comparing version numbers in scattered places. Reads of TimescaleDB's
//! internal catalog go through [`Capabilities::catalog`]: the shape of this release's
//! catalog when its contract holds ([`crate::contract`]), else the public API only.
//! `_timescaledb_config.bgw_job` moved to `_timescaledb_catalog` in 2.25: jobs are read
//! through the public `timescaledb_information.jobs` view; `chunk.dropped` disappeared in
//! 2.26: a dropped chunk never has a relation, so joining `pg_class` leaves it out.

use crate::contract::{CatalogAccess, CatalogShape};
use crate::{Error, Result};
use sqlx::PgConnection;

/// The oldest TimescaleDB release the console supports.
pub const MIN_SUPPORTED: TimescaleVersion = TimescaleVersion {
    major: 2,
    minor: 13,
    patch: 0,
};

pub use crate::releases::TimescaleVersion;

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
    /// Whether the server has TimescaleDB's library loaded (preloaded through
    /// `shared_preload_libraries`, or built in as the embedded database has it). Without
    /// it, calling any TimescaleDB function ends the connection with `FATAL: extension
    /// "timescaledb" must be preloaded`.
    pub timescaledb_loaded: bool,
    /// `timescaledb.max_background_workers` when TimescaleDB's loader runs (which starts
    /// the job scheduler); `None` where nothing schedules jobs.
    pub background_workers: Option<i64>,
    /// Whether the server is PostgreSQL compiled to WebAssembly (PGlite, the embedded
    /// development database): `version()` names Emscripten as its compiler. Such a server
    /// dies on `COPY … FROM STDIN`, so clients must never send it there.
    pub webassembly_build: bool,
    /// How TimescaleDB's catalog is read here: the internal catalog in this release's
    /// shape, or (the contract does not hold, or the release is newer than known) only
    /// the public API.
    pub catalog: CatalogAccess,
}

impl Capabilities {
    /// [`Capabilities::probe_on`] a connection of `pool`.
    pub async fn probe(pool: &sqlx::PgPool) -> Result<Self> {
        let mut conn = pool.acquire().await?;
        Self::probe_on(&mut conn).await
    }

    /// Reads the server and extension versions, and checks the catalog contract of the
    /// installed release.
    pub async fn probe_on(conn: &mut PgConnection) -> Result<Self> {
        // pg_settings lists only settings a loaded library defined, never placeholders
        // typed into postgresql.conf: the preloaded loader defines the background-worker
        // setting before the extension exists in this database, the library itself the
        // licence.
        let row: ProbeRow = sqlx::query_as(
            "SELECT current_setting('server_version_num') AS server_version_num,
                    current_setting('server_version') AS server_version,
                    (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS extversion,
                    EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
                    EXISTS (SELECT 1 FROM pg_settings
                             WHERE name IN ('timescaledb.license', 'timescaledb.max_background_workers')) AS loaded,
                    (SELECT setting FROM pg_settings
                      WHERE name = 'timescaledb.max_background_workers') AS background_workers,
                    version() ILIKE '%emscripten%' AS webassembly_build",
        )
        .fetch_one(&mut *conn)
        .await?;
        let server_version_num = row.server_version_num.parse().map_err(|_| {
            Error::Unexpected(format!(
                "server_version_num is not a number: {:?}",
                row.server_version_num
            ))
        })?;
        let mut capabilities = Self {
            server_version_num,
            server_version: row.server_version,
            timescaledb: row.extversion.as_deref().and_then(TimescaleVersion::parse),
            timescaledb_reported: row.extversion,
            timescaledb_available: row.available,
            timescaledb_loaded: row.loaded,
            background_workers: row.background_workers.and_then(|w| w.parse().ok()),
            webassembly_build: row.webassembly_build,
            catalog: CatalogAccess::Public {
                reason: "TimescaleDB is not usable here".into(),
            },
        };
        if let Ok(version) = capabilities.require_timescaledb() {
            capabilities.catalog = crate::contract::check(&mut *conn, version).await?;
        }
        Ok(capabilities)
    }

    /// The internal catalog's shape, when it is read; `None` means public API only.
    pub fn catalog_shape(&self) -> Option<CatalogShape> {
        self.catalog.shape()
    }

    /// The same capabilities reading only TimescaleDB's public API (what a release newer
    /// than the console knows gets); `reason` says why.
    pub fn reading_public_api_only(mut self, reason: &str) -> Self {
        self.catalog = CatalogAccess::Public {
            reason: reason.to_string(),
        };
        self
    }

    /// These capabilities as the operator's `reads` allow: `Public` turns internal reads
    /// off, with the setting as the reason every page gives.
    pub fn with_catalog_reads(self, reads: crate::contract::CatalogReads) -> Self {
        match reads {
            crate::contract::CatalogReads::Public if self.catalog_shape().is_some() => self
                .reading_public_api_only(
                    "MS5_CATALOG_READS is public: the console reads TimescaleDB's public views only, as configured",
                ),
            _ => self,
        }
    }

    /// `Ok` when TimescaleDB is installed in a supported version and usable, else why not.
    pub fn require_timescaledb(&self) -> Result<TimescaleVersion> {
        if self.needs_preload() {
            return Err(Error::NotPreloaded);
        }
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

    /// The server offers (or has) TimescaleDB but has not loaded its library: creating or
    /// using the extension would end the connection. The most common installation
    /// mistake; the fix is `shared_preload_libraries = 'timescaledb'` and a restart.
    pub fn needs_preload(&self) -> bool {
        (self.timescaledb_available || self.timescaledb_reported.is_some())
            && !self.timescaledb_loaded
    }

    /// Whether something runs TimescaleDB's jobs on their schedules: the loader's
    /// scheduler with at least one background worker. Where not (the embedded database,
    /// or `timescaledb.max_background_workers = 0`), jobs run only when started by hand.
    pub fn has_job_scheduler(&self) -> bool {
        self.background_workers.is_some_and(|workers| workers > 0)
    }

    /// 2.13 refuses new compression settings (segment-by, order-by) while any chunk is
    /// compressed; 2.14 and later apply them to chunks compressed afterwards.
    pub fn refuses_compression_settings_with_compressed_chunks(&self) -> bool {
        self.timescaledb.is_some_and(|v| {
            v < TimescaleVersion {
                major: 2,
                minor: 14,
                patch: 0,
            }
        })
    }

    /// Whether `timescaledb_information.job_history` and execution logging exist (2.15 on);
    /// before, only failed runs are listed (`job_errors`).
    pub fn has_job_history(&self) -> bool {
        self.timescaledb.is_some_and(|v| {
            v >= TimescaleVersion {
                major: 2,
                minor: 15,
                patch: 0,
            }
        })
    }

    /// Whether a continuous aggregate may have several refresh policies (2.21 on, with
    /// windows that do not overlap).
    pub fn allows_several_refresh_policies(&self) -> bool {
        self.timescaledb.is_some_and(|v| {
            v >= TimescaleVersion {
                major: 2,
                minor: 21,
                patch: 0,
            }
        })
    }

    /// Whether `ALTER TABLE … RESET (timescaledb.compress_segmentby / compress_orderby)`
    /// takes a compression setting back to TimescaleDB's default (2.22.1 on; before,
    /// "compression options cannot be reset").
    pub fn resets_compression_settings(&self) -> bool {
        self.timescaledb.is_some_and(|v| {
            v >= TimescaleVersion {
                major: 2,
                minor: 22,
                patch: 1,
            }
        })
    }

    /// Whether `COPY … FROM STDIN` may be sent: everywhere but a WebAssembly build, which
    /// dies on it (the instance then refuses every client until restarted).
    pub fn accepts_copy_from_stdin(&self) -> bool {
        !self.webassembly_build
    }

    /// Whether PostgreSQL publishes per-table write counters (`pg_stat_get_tuples_*`):
    /// everywhere but a WebAssembly build, whose single process leaves them at 0
    /// (measured: 1,000 rows inserted, `n_tup_ins` still 0).
    pub fn publishes_table_counters(&self) -> bool {
        !self.webassembly_build
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

/// The probe's one row, by name.
#[derive(sqlx::FromRow)]
struct ProbeRow {
    server_version_num: String,
    server_version: String,
    extversion: Option<String>,
    available: bool,
    loaded: bool,
    background_workers: Option<String>,
    webassembly_build: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(version: Option<&str>) -> Capabilities {
        let parsed = version.and_then(TimescaleVersion::parse);
        Capabilities {
            catalog: match parsed {
                Some(v) => CatalogAccess::Internal {
                    shape: CatalogShape::of(v),
                },
                None => CatalogAccess::Public {
                    reason: "none".into(),
                },
            },
            server_version_num: 170005,
            server_version: "17.5".into(),
            timescaledb_reported: version.map(str::to_owned),
            timescaledb: version.and_then(TimescaleVersion::parse),
            timescaledb_available: true,
            timescaledb_loaded: true,
            background_workers: Some(16),
            webassembly_build: false,
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
        assert!(caps(Some("2.13.1")).refuses_compression_settings_with_compressed_chunks());
        assert!(!caps(Some("2.14.0")).refuses_compression_settings_with_compressed_chunks());
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

    #[test]
    fn an_installed_but_not_preloaded_library_is_unusable() {
        let mut installed = caps(Some("2.28.3"));
        installed.timescaledb_loaded = false;
        installed.background_workers = None;
        assert!(installed.needs_preload());
        assert!(matches!(
            installed.require_timescaledb(),
            Err(Error::NotPreloaded)
        ));
        // Offered but not created yet: creating it would fail the same way.
        let mut offered = caps(None);
        offered.timescaledb_loaded = false;
        assert!(offered.needs_preload());
        // Not offered at all: nothing to preload, the extension is simply missing.
        offered.timescaledb_available = false;
        assert!(!offered.needs_preload());
        assert!(matches!(
            offered.require_timescaledb(),
            Err(Error::ExtensionMissing)
        ));
    }

    #[test]
    fn jobs_are_scheduled_only_where_the_loader_has_workers() {
        let mut embedded = caps(Some("2.23.0-dev"));
        embedded.background_workers = None;
        assert!(!embedded.has_job_scheduler());
        let mut none_left = caps(Some("2.28.3"));
        none_left.background_workers = Some(0);
        assert!(!none_left.has_job_scheduler());
        assert!(caps(Some("2.28.3")).has_job_scheduler());
    }
}
