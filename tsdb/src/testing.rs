//! A private embedded TimescaleDB for integration tests (feature `test-support`).
//!
//! Each test binary starts its own devdb instance on a free port with a data directory
//! copied from a prepared template (so start-up takes about a second, not the five of a
//! first start), and tests take turns on it: devdb serves one connection at a time.
//! Each test works in a schema of its own.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root (tsdb's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tsdb lives inside the workspace")
        .to_path_buf()
}

/// A running devdb process owned by the test binary.
#[derive(Debug)]
pub struct DevDb {
    child: Child,
    port: u16,
    data_dir: PathBuf,
    log: PathBuf,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

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

static SHARED: OnceLock<DevDb> = OnceLock::new();
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The test binary's shared instance, started on first use.
pub fn shared() -> &'static DevDb {
    SHARED.get_or_init(DevDb::start)
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

/// A private instance of the machine's own PostgreSQL (Debian's, without TimescaleDB):
/// the no-extension case, several connections at once, and a native anchor for benchmarks.
#[derive(Debug)]
pub struct NativePostgres {
    child: Child,
    port: u16,
    data_dir: PathBuf,
}

/// The directory holding `initdb` and `postgres`: `PG_BIN`, else the newest under
/// /usr/lib/postgresql.
fn postgres_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").is_file())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().expect(
        "no PostgreSQL server under /usr/lib/postgresql (make deps installs Debian's postgresql)",
    )
}

/// The uid and gid to run PostgreSQL as: the `postgres` account when the tests run as
/// root (PostgreSQL refuses to), else nobody in particular.
fn postgres_account() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .to_string();
    if uid != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres"))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
            .flatten()
    })
}

fn as_postgres(command: &mut Command, account: Option<(u32, u32)>) -> &mut Command {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = account {
        command.uid(uid).gid(gid);
    }
    command
}

impl NativePostgres {
    /// Runs `initdb` into a fresh directory and starts the server on a free port.
    pub fn start() -> NativePostgres {
        let bin = postgres_bin();
        let account = postgres_account();
        let scratch = workspace_root().join("target/pg-tests");
        std::fs::create_dir_all(&scratch).expect("create target/pg-tests");
        remove_stale(&scratch);
        let data_dir = scratch.join(format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&data_dir).expect("create the data directory");
        if let Some((uid, gid)) = account {
            std::os::unix::fs::chown(&data_dir, Some(uid), Some(gid)).expect("chown data dir");
        }
        let output = as_postgres(
            Command::new(bin.join("initdb"))
                .arg("-D")
                .arg(&data_dir)
                .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
                .stdin(Stdio::null()),
            account,
        )
        .output()
        .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let port = free_port();
        let child = as_postgres(
            Command::new(bin.join("postgres"))
                .arg("-D")
                .arg(&data_dir)
                .args(["-p", &port.to_string(), "-k"])
                .arg(&data_dir)
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            account,
        )
        .spawn()
        .expect("start postgres");
        let server = NativePostgres {
            child,
            port,
            data_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "postgres did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Connection URL.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for NativePostgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown.
        Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status()
            .ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.data_dir).ok();
    }
}
