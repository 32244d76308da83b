//! Real databases for integration tests (feature `test-support`): devdb, the embedded
//! TimescaleDB every test can use; a private cluster of a native PostgreSQL, either the
//! machine's own (no TimescaleDB) or the native tier's TimescaleDB with its job
//! scheduler; or the TimescaleDB a user names with `MS5_TEST_TIMESCALEDB_URL`.

mod cluster;
mod devdb;
pub mod flaky_job;
mod native;
pub mod policies;
pub mod scheduler;

pub use cluster::Cluster;
pub use devdb::{shared, DevDb, TestDb};
pub use native::{
    cluster_settings, native_tier, native_tiers, oldest_tier, preload_free_cluster,
    private_native_cluster, NativeDatabase, NativeTier,
};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Publishes this session's table counters (tuples written, vacuums) now rather than when
/// PostgreSQL gets round to it (up to 10 s on 15 and later), so that a pass right after a
/// test's writes sees them. PGlite accepts the call and still publishes nothing.
pub async fn publish_counters(conn: &mut sqlx::PgConnection) {
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(conn)
        .await
        .expect("pg_stat_force_next_flush (PostgreSQL 15 or later)");
}

/// Numbers the private directories and databases of one test binary.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The workspace root (tsdb's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tsdb lives inside the workspace")
        .to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Removes data directories left by test binaries that are no longer running.
fn remove_stale(scratch: &Path) {
    let Ok(entries) = std::fs::read_dir(scratch) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name.split(['-', '.']).next() else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(path).ok();
            } else {
                std::fs::remove_file(path).ok();
            }
        }
    }
}

/// Connects a one-connection pool, retrying while devdb notices the previous client left.
pub async fn connect(url: &str) -> PgPool {
    let options = PgConnectOptions::from_str(url).expect("valid devdb url");
    let mut attempt = 0;
    loop {
        attempt += 1;
        match PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => return pool,
            Err(error) if attempt < 50 => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("cannot connect to devdb at {url}: {error}"),
        }
    }
}
