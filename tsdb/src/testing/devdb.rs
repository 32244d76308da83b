//! devdb for tests: a private embedded TimescaleDB per test binary.
//!
//! Each test binary starts its own devdb instance on a free port with a data directory
//! copied from a prepared template (so start-up takes about a second, not the five of a
//! first start), and tests take turns on it: devdb serves one connection at a time.
//! Each test works in a schema of its own.

use super::{connect, copy_dir, free_port, remove_stale, workspace_root, NEXT};
use sqlx::PgPool;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running devdb process owned by the test binary.
#[derive(Debug)]
pub struct DevDb {
    child: Child,
    port: u16,
    data_dir: PathBuf,
    log: PathBuf,
}

impl DevDb {
    /// Starts a fresh instance from the template (made on first use).
    pub fn start() -> DevDb {
        let root = workspace_root();
        let script = root.join("devdb/server.js");
        assert!(
            root.join("devdb/node_modules").is_dir(),
            "devdb/node_modules is missing: run `make test` (or `npm ci --prefix devdb`) first"
        );
        let scratch = root.join("target/devdb-tests");
        std::fs::create_dir_all(&scratch).expect("create target/devdb-tests");
        remove_stale(&scratch);
        let template = ensure_template(&root, &script);
        let name = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let data_dir = scratch.join(&name);
        copy_dir(&template, &data_dir).expect("copy the devdb template");
        let log = scratch.join(format!("{name}.log"));
        let port = free_port();
        let child = spawn(&script, &data_dir, port, &log);
        let mut db = DevDb {
            child,
            port,
            data_dir,
            log,
        };
        db.wait_ready();
        db
    }

    /// `postgres://…?sslmode=disable` for this instance.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Kills the process without warning (as a WASM trap would) and starts it again on
    /// the same data directory.
    pub fn crash_and_restart(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        let script = workspace_root().join("devdb/server.js");
        self.child = spawn(&script, &self.data_dir, self.port, &self.log);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let mut text = String::new();
            if let Ok(mut file) = std::fs::File::open(&self.log) {
                file.read_to_string(&mut text).ok();
            }
            // The log is appended across restarts: count readiness lines.
            if text.matches("listening on").count() > self.restarts() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "devdb exited with {status} before it was ready:\n{}",
                    tail(&self.log)
                );
            }
            assert!(
                Instant::now() < deadline,
                "devdb not ready after 90 s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn restarts(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|t| t.matches("devdb: starting").count().saturating_sub(1))
            .unwrap_or(0)
    }
}

impl Drop for DevDb {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.data_dir).ok();
        std::fs::remove_file(&self.log).ok();
    }
}

fn spawn(script: &Path, data_dir: &Path, port: u16, log: &Path) -> Child {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open devdb log");
    writeln!(file, "devdb: starting").ok();
    let err = file.try_clone().expect("clone log handle");
    Command::new("node")
        .arg(script)
        .arg("--data")
        .arg(data_dir)
        .arg("--port")
        .arg(port.to_string())
        // The instance exits by itself when the test binary does.
        .arg("--parent-pid")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .expect("start node (is Node.js installed?)")
}

/// Serialises template building inside one test binary: tests run on parallel threads,
/// and two PGlite instances initialising one directory crash each other.
static TEMPLATE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The last lines of a devdb log (its crash reports include whole minified scripts).
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| l.len() < 500).collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// The template: a data directory whose first start (initdb, extension) already happened.
fn ensure_template(root: &Path, script: &Path) -> PathBuf {
    let template = std::env::var_os("DEVDB_TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/devdb-template"));
    let _guard = TEMPLATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // PGlite's first start occasionally aborts inside initdb; a fresh attempt succeeds.
    let mut failures = Vec::new();
    for _attempt in 0..3 {
        if template.join("PG_VERSION").is_file() {
            return template;
        }
        match build_template(script, &template) {
            Ok(()) => return template,
            Err(report) => failures.push(report),
        }
    }
    panic!(
        "devdb could not build its template in 3 attempts:\n{}",
        failures.join("\n---\n")
    );
}

fn build_template(script: &Path, template: &Path) -> Result<(), String> {
    let building = template.with_extension(format!("building-{}", std::process::id()));
    std::fs::remove_dir_all(&building).ok();
    let log = building.with_extension("log");
    std::fs::remove_file(&log).ok();
    let port = free_port();
    let mut child = spawn(script, &building, port, &log);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("listening on")
    {
        let failed = if Instant::now() > deadline {
            Some("timed out after 120 s".to_string())
        } else {
            child
                .try_wait()
                .ok()
                .flatten()
                .map(|status| format!("exited with {status}"))
        };
        if let Some(reason) = failed {
            child.kill().ok();
            child.wait().ok();
            let report = format!(
                "devdb {reason} while building the template:\n{}",
                tail(&log)
            );
            std::fs::remove_dir_all(&building).ok();
            std::fs::remove_file(&log).ok();
            return Err(report);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGTERM lets devdb close PGlite cleanly so the copy is consistent.
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .ok();
    child.wait().ok();
    std::fs::remove_file(&log).ok();
    if std::fs::rename(&building, template).is_err() {
        // Another test binary won the race; its template is as good as ours.
        std::fs::remove_dir_all(&building).ok();
    }
    Ok(())
}

static SHARED: OnceLock<DevDb> = OnceLock::new();
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The test binary's shared instance, started on first use.
pub fn shared() -> &'static DevDb {
    SHARED.get_or_init(DevDb::start)
}

/// One test's turn on the shared instance, with a schema of its own.
pub struct TestDb {
    /// A one-connection pool to the shared instance.
    pub pool: PgPool,
    /// The test's own schema (unquoted name).
    pub schema: String,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl TestDb {
    /// Waits for the instance to be free, then connects and creates `schema`.
    pub async fn acquire(schema: &str) -> TestDb {
        let turn = TURN.lock().await;
        let url = tokio::task::spawn_blocking(|| shared().url())
            .await
            .expect("start devdb");
        let pool = connect(&url).await;
        sqlx::raw_sql(&format!(
            "DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}",
            crate::ident::quote_ident(schema)
        ))
        .execute(&pool)
        .await
        .expect("create the test schema");
        TestDb {
            pool,
            schema: schema.to_string(),
            _turn: turn,
        }
    }

    /// Closes the pool so the next test can connect at once.
    pub async fn finish(self) {
        self.pool.close().await;
    }
}
