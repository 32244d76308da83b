//! A private PostgreSQL cluster: `initdb` into a fresh directory under `target/`, then the
//! server on a free loopback port, stopped and deleted when dropped. Used with the
//! machine's own PostgreSQL (no TimescaleDB: the no-extension case) and with the native
//! tier's PostgreSQL 15.18 + TimescaleDB 2.28.3 (the job scheduler, real concurrency).

use super::{free_port, remove_stale, workspace_root, NEXT};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A running private cluster owned by the test binary.
#[derive(Debug)]
pub struct Cluster {
    child: Child,
    bin: PathBuf,
    account: Option<(u32, u32)>,
    port: u16,
    data_dir: PathBuf,
    log: PathBuf,
}

/// The machine's newest PostgreSQL (`PG_BIN` overrides): the one without TimescaleDB.
fn system_bin() -> PathBuf {
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
        // The test's own directory may be closed to that account (a clone in a 0700
        // `mktemp -d` folder): start where every account may be.
        command.uid(uid).gid(gid).current_dir("/");
    }
    command
}

/// Where clusters keep their data: the workspace's `target/`, or, when PostgreSQL runs as
/// another account, a folder of the system's temporary directory (the workspace may sit
/// in a folder that account cannot enter).
fn scratch_dir(account: Option<(u32, u32)>) -> Result<PathBuf, String> {
    let Some(_) = account else {
        return Ok(workspace_root().join("target/pg-tests"));
    };
    let scratch = std::env::temp_dir().join("ms5-pg-tests");
    std::fs::create_dir_all(&scratch).map_err(|e| format!("create {scratch:?}: {e}"))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("open {scratch:?} to the postgres account: {e}"))?;
    Ok(scratch)
}

/// The last lines of a server log.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl Cluster {
    /// The machine's own PostgreSQL, without TimescaleDB.
    pub fn system_postgres() -> Cluster {
        Cluster::start(&system_bin(), &[]).unwrap_or_else(|report| panic!("{report}"))
    }

    /// Runs `initdb` with the binaries in `bin` and starts the server with `settings`
    /// (`-c name=value` each) on a free port; says why when it cannot.
    pub fn start(bin: &Path, settings: &[(&str, &str)]) -> Result<Cluster, String> {
        let account = postgres_account();
        let scratch = scratch_dir(account)?;
        std::fs::create_dir_all(&scratch).map_err(|e| format!("create {scratch:?}: {e}"))?;
        remove_stale(&scratch);
        let name = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let data_dir = scratch.join(&name);
        let log = scratch.join(format!("{name}.log"));
        std::fs::create_dir_all(&data_dir).map_err(|e| format!("create {data_dir:?}: {e}"))?;
        std::fs::File::create(&log).map_err(|e| format!("create {log:?}: {e}"))?;
        if let Some((uid, gid)) = account {
            for path in [&data_dir, &log] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {path:?}: {e}"))?;
            }
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
        .map_err(|e| format!("run {:?}: {e}", bin.join("initdb")))?;
        if !output.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let port = free_port();
        let child = launch(bin, account, &data_dir, port, &log, settings)?;
        let mut cluster = Cluster {
            child,
            bin: bin.to_path_buf(),
            account,
            port,
            data_dir,
            log,
        };
        cluster.wait_ready()?;
        Ok(cluster)
    }

    /// Stops the server and starts it again on the same data and port with `settings`
    /// (as an admin does after editing postgresql.conf).
    pub fn restart_with(&mut self, settings: &[(&str, &str)]) -> Result<(), String> {
        self.stop();
        self.start_again(settings)
    }

    /// Starts the server stopped by [`Cluster::stop`] again on the same data and port.
    pub fn start_again(&mut self, settings: &[(&str, &str)]) -> Result<(), String> {
        self.child = launch(
            &self.bin,
            self.account,
            &self.data_dir,
            self.port,
            &self.log,
            settings,
        )?;
        self.wait_ready()
    }

    /// Stops the server (fast shutdown: sessions are ended, as in an outage).
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            // Already stopped: its pid may belong to another process by now.
            return;
        }
        // SIGINT is PostgreSQL's fast shutdown.
        Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status()
            .ok();
        self.child.wait().ok();
    }

    /// Waits until the server accepts sessions: listening is not enough, until recovery
    /// ends it answers "the database system is starting up".
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let ready = || {
            Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|status| status.success())
        };
        while !ready() {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "postgres exited with {status}:\n{}",
                    tail(&self.log)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "postgres did not accept sessions within 60 s:\n{}",
                    tail(&self.log)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Connection URL of database `postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// Connection URL of `database` (a plain name).
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    /// The server's log so far (for failure messages).
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

/// Starts `postgres` on `data_dir` with the test defaults and `settings`.
fn launch(
    bin: &Path,
    account: Option<(u32, u32)>,
    data_dir: &Path,
    port: u16,
    log: &Path,
    settings: &[(&str, &str)],
) -> Result<Child, String> {
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(data_dir)
        .args(["-p", &port.to_string(), "-k"])
        .arg(data_dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
    for (name, value) in settings {
        command.arg("-c").arg(format!("{name}={value}"));
    }
    let log_file = std::fs::OpenOptions::new()
        .append(true)
        .open(log)
        .map_err(|e| format!("open {log:?}: {e}"))?;
    let err = log_file
        .try_clone()
        .map_err(|e| format!("clone the log handle: {e}"))?;
    as_postgres(
        command.stdin(Stdio::null()).stdout(log_file).stderr(err),
        account,
    )
    .spawn()
    .map_err(|e| format!("start {:?}: {e}", bin.join("postgres")))
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        std::fs::remove_dir_all(&self.data_dir).ok();
        std::fs::remove_file(&self.log).ok();
    }
}
