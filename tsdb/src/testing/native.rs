//! The native tier: real TimescaleDB releases with their job scheduler, several
//! connections and `COPY FROM`, which devdb cannot give. Either the servers named by
//! `MS5_TEST_TIMESCALEDB_URL` (the user's own, comma-separated; the account needs
//! `CREATEDB`), or a private cluster of each native build (`native/build.sh`: PostgreSQL
//! 15.18 with TimescaleDB 2.28.3 and 2.13.1 beside it, PostgreSQL 18.6 with 2.29.2), one
//! per test binary. Every native test runs on each current release ([`native_tiers`]);
//! the tests of the 2.13-2.19 code paths also on the oldest ([`oldest_tier`]). Each test
//! gets a database of its own.
//!
//! Where neither is available the tests that need it say so on stderr and return; under
//! `make test` (which sets `MS5_NATIVE_REQUIRED=1` whenever the tier is available) a
//! missing tier is a failure, never a silent pass.

use super::{workspace_root, Cluster, NEXT};
use crate::ident::quote_ident;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

/// One TimescaleDB release under test: a server, and the extension version its test
/// databases get.
#[derive(Debug)]
pub struct NativeTier {
    /// A URL of the maintenance database, where test databases are created.
    admin_url: String,
    /// The extension version created in its databases; `None`: the server's default.
    version: Option<String>,
    /// The build's bin directory, for tests that start servers of their own.
    bin: Option<PathBuf>,
    /// What it is, for messages: "TimescaleDB 2.29.2 on pg18".
    label: String,
    /// Whether `version` is the newest the server has (what a bare `CREATE EXTENSION`
    /// installs).
    is_default: bool,
    /// Keeps a private cluster alive (the first tier of a build owns it).
    _cluster: Option<Cluster>,
}

/// The releases a test runs on.
#[derive(Debug, Default)]
struct Tiers {
    /// The newest release of each native build: every native test runs on each.
    current: Vec<NativeTier>,
    /// The oldest release the console supports (2.13.1), where built.
    oldest: Option<NativeTier>,
}

static TIERS: OnceLock<Result<Tiers, String>> = OnceLock::new();

/// The oldest TimescaleDB release the console supports, as the native build installs it.
const OLDEST: &str = "2.13.1";

/// The native builds, as `native/status.sh --list` reports them: name, bin directory and
/// the TimescaleDB versions installed, newest first.
fn native_builds() -> Result<Vec<(String, PathBuf, Vec<String>)>, String> {
    if let Some(dir) = std::env::var_os("MS5_NATIVE_BIN") {
        return Ok(vec![("custom".into(), PathBuf::from(dir), Vec::new())]);
    }
    let output = Command::new("bash")
        .arg(workspace_root().join("native/status.sh"))
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot run native/status.sh: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.to_string();
            let bin = PathBuf::from(words.next()?);
            Some((name, bin, words.map(str::to_string).collect()))
        })
        .collect())
}

/// The first native build's bin directory (tests that start a server of their own).
fn native_bin() -> Result<PathBuf, String> {
    native_builds()?
        .into_iter()
        .next()
        .map(|(_, bin, _)| bin)
        .ok_or_else(|| "native/status.sh lists no native build".to_string())
}

/// Settings of a private native cluster: TimescaleDB preloaded with room for a
/// scheduler per test database and their jobs; telemetry off (no network here).
pub fn cluster_settings(preload: bool) -> Vec<(&'static str, &'static str)> {
    let mut settings = vec![
        ("max_connections", "200"),
        ("max_worker_processes", "64"),
        ("timescaledb.max_background_workers", "48"),
        ("timescaledb.telemetry_level", "off"),
    ];
    if preload {
        settings.push(("shared_preload_libraries", "timescaledb"));
    }
    settings
}

fn locate() -> Result<Tiers, String> {
    // The user's own servers: each is a current release, as installed there.
    if let Ok(urls) = std::env::var("MS5_TEST_TIMESCALEDB_URL") {
        let current = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|url| NativeTier {
                admin_url: url.to_string(),
                version: None,
                bin: None,
                label: format!("MS5_TEST_TIMESCALEDB_URL ({})", redacted(url)),
                is_default: true,
                _cluster: None,
            })
            .collect();
        return Ok(Tiers {
            current,
            oldest: None,
        });
    }
    let mut tiers = Tiers::default();
    for (name, bin, versions) in native_builds()? {
        let cluster = Cluster::start(&bin, &cluster_settings(true))?;
        let admin_url = cluster.url();
        let newest = versions.first().cloned();
        if versions.iter().any(|v| v == OLDEST) && newest.as_deref() != Some(OLDEST) {
            tiers.oldest = Some(NativeTier {
                admin_url: admin_url.clone(),
                version: Some(OLDEST.into()),
                bin: Some(bin.clone()),
                label: format!("TimescaleDB {OLDEST} on {name}"),
                is_default: false,
                _cluster: None,
            });
        }
        tiers.current.push(NativeTier {
            admin_url,
            label: format!(
                "TimescaleDB {} on {name}",
                newest.as_deref().unwrap_or("(default)")
            ),
            version: newest,
            bin: Some(bin),
            is_default: true,
            _cluster: Some(cluster),
        });
    }
    Ok(tiers)
}

/// A URL without its password, for messages.
fn redacted(url: &str) -> String {
    crate::secrets::mask(url)
}

/// Says why a native test does not run; a failure where the tier is required.
fn unavailable(reason: &str) {
    if std::env::var("MS5_NATIVE_REQUIRED").is_ok_and(|v| v == "1") {
        panic!("the native tier is required (MS5_NATIVE_REQUIRED=1) but unavailable: {reason}");
    }
    eprintln!("NATIVE TIER SKIPPED: {reason}");
}

fn tiers() -> Option<&'static Tiers> {
    match TIERS.get_or_init(locate) {
        Ok(tiers) if !tiers.current.is_empty() => Some(tiers),
        Ok(_) => {
            unavailable("no native build and no MS5_TEST_TIMESCALEDB_URL");
            None
        }
        Err(reason) => {
            unavailable(reason);
            None
        }
    }
}

/// Every current release of the native tier (TimescaleDB 2.28.3 on PostgreSQL 15 and
/// 2.29.2 on PostgreSQL 18, or the servers `MS5_TEST_TIMESCALEDB_URL` names): a native
/// test runs on each. Empty (said on stderr) where there is none.
pub fn native_tiers() -> Vec<&'static NativeTier> {
    tiers()
        .map(|t| t.current.iter().collect())
        .unwrap_or_default()
}

/// The first current release, for the few tests that need a real server but not each
/// release (a load measurement).
pub fn native_tier() -> Option<&'static NativeTier> {
    tiers().and_then(|t| t.current.first())
}

/// The oldest release the console supports (2.13.1, installed beside 2.28.3), for the
/// tests its code paths need. `None` where it is not built (or the tiers are the user's
/// own servers); a failure where the native tier is required and it was expected.
pub fn oldest_tier() -> Option<&'static NativeTier> {
    let tiers = tiers()?;
    if tiers.oldest.is_none()
        && std::env::var("MS5_TEST_TIMESCALEDB_URL").is_err()
        && std::env::var("MS5_NATIVE_REQUIRED").is_ok_and(|v| v == "1")
    {
        panic!("TimescaleDB {OLDEST} is not installed in the native build (native/build.sh installs it)");
    }
    tiers.oldest.as_ref()
}

/// A private cluster of the native build *without* `shared_preload_libraries`: the most
/// common installation mistake. `None` (said on stderr) without the native build.
pub fn preload_free_cluster() -> Option<Cluster> {
    match native_bin().and_then(|bin| Cluster::start(&bin, &cluster_settings(false))) {
        Ok(cluster) => Some(cluster),
        Err(reason) => {
            unavailable(&reason);
            None
        }
    }
}

/// A private cluster of the native build with TimescaleDB preloaded, for a test that
/// stops and starts its server. `None` (said on stderr) without the native build.
pub fn private_native_cluster() -> Option<Cluster> {
    match native_bin().and_then(|bin| Cluster::start(&bin, &cluster_settings(true))) {
        Ok(cluster) => Some(cluster),
        Err(reason) => {
            unavailable(&reason);
            None
        }
    }
}

fn options(url: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("MS5_TEST_TIMESCALEDB_URL {url:?} is not a PostgreSQL URL: {e}"))
}

impl NativeTier {
    /// Which release on which server, for messages.
    pub fn describe(&self) -> String {
        self.label.clone()
    }

    /// The extension version its databases get (`None`: the server's default).
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// A private cluster of this tier's build, for a test that stops and starts its
    /// server (`preload`: with TimescaleDB preloaded). `None` on the user's own servers.
    pub fn private_cluster(&self, preload: bool) -> Option<Cluster> {
        let bin = self.bin.as_ref()?;
        Some(
            Cluster::start(bin, &cluster_settings(preload))
                .unwrap_or_else(|e| panic!("a private cluster of {}: {e}", self.label)),
        )
    }

    /// A fresh database with TimescaleDB created in it; `label` shows up in its name.
    pub async fn database(&self, label: &str) -> NativeDatabase {
        let database = self.empty_database(label).await;
        let mut conn = PgConnection::connect_with(&options(&database.url))
            .await
            .expect("connect to the new test database");
        self.create_extension(&mut conn).await;
        conn.close().await.ok();
        database
    }

    /// Creates the extension in this tier's version.
    async fn create_extension(&self, conn: &mut PgConnection) {
        let sql = match &self.version {
            Some(version) => format!(
                "CREATE EXTENSION IF NOT EXISTS timescaledb VERSION {}",
                crate::ident::quote_literal(version)
            ),
            None => "CREATE EXTENSION IF NOT EXISTS timescaledb".to_string(),
        };
        sqlx::query(&sql).execute(conn).await.unwrap_or_else(|e| {
            panic!(
                "CREATE EXTENSION timescaledb on {} (is it preloaded?): {e}",
                self.label
            )
        });
    }

    /// A fresh empty database, as a new deployment starts: whoever connects first
    /// creates the extension (the console's migrations, in its tests). On a tier of an
    /// older release than the server's default, the extension is created in that
    /// release first: the migrations would otherwise create the newest.
    pub async fn bare_database(&self, label: &str) -> NativeDatabase {
        let database = self.empty_database(label).await;
        if !self.is_default {
            let mut conn = PgConnection::connect_with(&options(&database.url))
                .await
                .expect("connect to the new test database");
            self.create_extension(&mut conn).await;
            conn.close().await.ok();
        }
        database
    }

    async fn empty_database(&self, label: &str) -> NativeDatabase {
        let name = format!(
            "ms5_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst),
            label
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(30)
                .collect::<String>()
                .to_lowercase()
        );
        let mut admin = PgConnection::connect_with(&options(&self.admin_url))
            .await
            .unwrap_or_else(|e| panic!("cannot reach the native tier ({}): {e}", self.describe()));
        // Identifiers cannot be bound; the name is made here, and quoted all the same.
        sqlx::query(&format!("CREATE DATABASE {}", quote_ident(&name)))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE on the native tier: {e}"));
        admin.close().await.ok();
        let options = options(&self.admin_url).database(&name);
        NativeDatabase {
            url: options.to_url_lossy().to_string(),
            name,
            admin_url: self.admin_url.clone(),
        }
    }
}

/// One test's database on the native tier, dropped when the value is.
#[derive(Debug)]
pub struct NativeDatabase {
    /// Its connection URL.
    pub url: String,
    name: String,
    admin_url: String,
}

impl NativeDatabase {
    /// A pool of up to `max` connections.
    pub async fn pool(&self, max: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options(&self.url))
            .await
            .expect("connect to the native test database")
    }
}

impl Drop for NativeDatabase {
    fn drop(&mut self) {
        // Drop runs outside any runtime (or inside one that cannot block): a thread of
        // its own with a small runtime. The scheduler holds a connection, hence FORCE.
        let admin_url = self.admin_url.clone();
        let name = std::mem::take(&mut self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect_with(&options(&admin_url))
                    .await
                    .ok()?;
                sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&name)
                ))
                .execute(&mut admin)
                .await
                .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        let _ = dropped;
    }
}
