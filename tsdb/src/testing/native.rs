//! The native tier: a real TimescaleDB with its job scheduler, several connections and
//! `COPY FROM`, which devdb cannot give. Either the TimescaleDB named by
//! `MS5_TEST_TIMESCALEDB_URL` (the user's own server; the account needs `CREATEDB`), or
//! a private cluster of the native build (`native/build.sh`: PostgreSQL 15.18 with
//! TimescaleDB 2.28.3), one per test binary. Each test gets a database of its own.
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

/// Where the native tier's server comes from.
#[derive(Debug)]
enum Server {
    /// The user's own TimescaleDB.
    External,
    /// A private cluster of the native build, kept alive for the test binary.
    Private(Cluster),
}

/// A TimescaleDB server for the native tier's tests.
#[derive(Debug)]
pub struct NativeTier {
    /// A URL of the maintenance database, where test databases are created.
    admin_url: String,
    server: Server,
}

static TIER: OnceLock<Result<NativeTier, String>> = OnceLock::new();

/// The native build's bin directory, as `native/status.sh` reports it.
fn native_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("MS5_NATIVE_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let output = Command::new("bash")
        .arg(workspace_root().join("native/status.sh"))
        .output()
        .map_err(|e| format!("cannot run native/status.sh: {e}"))?;
    if output.status.success() {
        Ok(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim().to_string(),
        ))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
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

fn locate() -> Result<NativeTier, String> {
    if let Ok(url) = std::env::var("MS5_TEST_TIMESCALEDB_URL") {
        return Ok(NativeTier {
            admin_url: url,
            server: Server::External,
        });
    }
    let bin = native_bin()?;
    let cluster = Cluster::start(&bin, &cluster_settings(true))?;
    Ok(NativeTier {
        admin_url: cluster.url(),
        server: Server::Private(cluster),
    })
}

/// Says why a native test does not run; a failure where the tier is required.
fn unavailable(reason: &str) {
    if std::env::var("MS5_NATIVE_REQUIRED").is_ok_and(|v| v == "1") {
        panic!("the native tier is required (MS5_NATIVE_REQUIRED=1) but unavailable: {reason}");
    }
    eprintln!("NATIVE TIER SKIPPED: {reason}");
}

/// The test binary's native tier, started on first use; `None` (said on stderr) where
/// there is none.
pub fn native_tier() -> Option<&'static NativeTier> {
    match TIER.get_or_init(locate) {
        Ok(tier) => Some(tier),
        Err(reason) => {
            unavailable(reason);
            None
        }
    }
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
    /// Where the tier's server comes from, for messages.
    pub fn describe(&self) -> String {
        match &self.server {
            Server::External => "MS5_TEST_TIMESCALEDB_URL".to_string(),
            Server::Private(cluster) => format!("private native cluster ({})", cluster.url()),
        }
    }

    /// A fresh database with TimescaleDB created in it; `label` shows up in its name.
    pub async fn database(&self, label: &str) -> NativeDatabase {
        let database = self.bare_database(label).await;
        let mut conn = PgConnection::connect_with(&options(&database.url))
            .await
            .expect("connect to the new test database");
        sqlx::query("CREATE EXTENSION IF NOT EXISTS timescaledb")
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| {
                panic!("CREATE EXTENSION timescaledb on the native tier (is it preloaded?): {e}")
            });
        conn.close().await.ok();
        database
    }

    /// A fresh empty database, as a new deployment starts: whoever connects first
    /// creates the extension (the console's migrations, in its tests).
    pub async fn bare_database(&self, label: &str) -> NativeDatabase {
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
