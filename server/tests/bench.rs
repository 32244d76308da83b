//! `ms5-console bench` as a user runs it, on devdb and on the native tier: a reduced suite
//! whose every figure is present and positive with its anchor, and the scratch schema gone
//! afterwards — after a finished run, after Ctrl-C, after a refused start, and after a
//! killed process (the next run sweeps it). No test here asserts a wall-clock time.

mod support;

use http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use std::process::Stdio;
use std::time::Duration;
use support::Console;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tsdb::testing::{connect, native_tiers, DevDb};
use tsdb::types::Role;

/// The real binary with only what a user would set.
fn bench_command(url: &str, profile: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ms5-console"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("MS5_ENV", profile)
        .env("MS5_LOG_LEVEL", "warn")
        .arg("bench")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

fn json_path(label: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ms5-bench-{label}-{}.json", std::process::id()))
}

async fn scratch_schemas(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, 'ms5_bench_')",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A pool for a look at the database between runs (closed afterwards: devdb serves
/// one connection, and the bench needs it).
async fn look<T, F: std::future::Future<Output = T>>(
    url: &str,
    what: impl FnOnce(PgPool) -> F,
) -> T {
    let pool = connect(url).await;
    let answer = what(pool.clone()).await;
    pool.close().await;
    answer
}

/// Nothing of a bench run is left: no scratch schema, no hypertable of one in
/// TimescaleDB's catalog, no chunk whose hypertable is gone.
async fn assert_nothing_left(url: &str) {
    look(url, |pool| async move { nothing_left(&pool).await }).await;
}

async fn nothing_left(pool: &PgPool) {
    assert_eq!(scratch_schemas(pool).await, Vec::<String>::new());
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM _timescaledb_catalog.hypertable
                  WHERE starts_with(schema_name, 'ms5_bench_'))
              + (SELECT count(*) FROM _timescaledb_catalog.chunk c
                  WHERE NOT EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable h
                                     WHERE h.id = c.hypertable_id))",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        leftovers, 0,
        "bench hypertables or orphaned chunks left behind"
    );
}

/// A finished reduced run: the table printed, the JSON complete, the run recorded.
async fn full_run(url: &str, copy_expected: bool) {
    let json = json_path(if copy_expected { "native" } else { "devdb" });
    let output = bench_command(
        url,
        "development",
        &[
            "--runs",
            "2",
            "--rows",
            "3000",
            "--json",
            json.to_str().unwrap(),
        ],
    )
    .output()
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed:\n{stdout}\n{stderr}");
    for header in ["target", "published", "median", "anchor median", "× anchor"] {
        assert!(stdout.contains(header), "{stdout}");
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).ok();
    assert_eq!(
        report["ingest_path"],
        if copy_expected { "copy" } else { "unnest" },
        "the path follows the server's capabilities"
    );
    assert!(
        report["psql"].as_str().is_some_and(|v| v.contains("psql")),
        "{report}"
    );
    let tests = report["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 13, "{report}");
    for test in tests {
        let key = test["key"].as_str().unwrap();
        let label = tsdb::bench::report::TestKey::ALL
            .iter()
            .find(|k| serde_json::to_value(k).unwrap() == key)
            .map(|k| k.label())
            .unwrap();
        assert!(
            stdout.contains(label),
            "{label} missing from the table:\n{stdout}"
        );
        let ours = &test["ours"];
        for field in ["min", "median", "max"] {
            let value = ours[field].as_f64().unwrap_or(-1.0);
            assert!(value > 0.0, "{key}: {field} is {value}: {test}");
        }
        assert!(ours["min"].as_f64() <= ours["median"].as_f64());
        assert!(ours["median"].as_f64() <= ours["max"].as_f64());
        if key == "compression" {
            // Bytes saved have no natural anchor; the note names the statistics used.
            assert!(test["note"]
                .as_str()
                .unwrap()
                .contains("hypertable_compression_stats"));
            continue;
        }
        let anchor = &test["anchor"];
        assert!(
            anchor["summary"]["median"]
                .as_f64()
                .is_some_and(|m| m > 0.0),
            "{key} has no anchor: {test}"
        );
        assert!(!anchor["label"].as_str().unwrap().is_empty());
    }
    // Compression is measured from TimescaleDB's own statistics: it saved something.
    let saved = tests.iter().find(|t| t["key"] == "compression").unwrap()["ours"]["median"]
        .as_f64()
        .unwrap();
    assert!(saved > 0.0 && saved < 100.0, "{saved}");
    assert_nothing_left(url).await;
    let recorded: Vec<(String, Value)> = look(url, |pool| async move {
        sqlx::query_as("SELECT started_by, report FROM console.bench_runs")
            .fetch_all(&pool)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].0, "command line");
    assert_eq!(recorded[0].1["tests"].as_array().unwrap().len(), 13);
}

/// Starts a run and waits until it is inside `step` (its progress line on stderr).
async fn started_until(url: &str, step: &str) -> (Child, tokio::task::JoinHandle<String>) {
    let mut child = bench_command(url, "development", &["--runs", "3", "--rows", "200000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(step) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "the run never reached {step:?}:\n{seen}");
    let rest = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    });
    (child, rest)
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Ctrl-C in the middle of the ingest: exit 130, and the scratch schema removed.
async fn interrupted_run(url: &str) {
    let (mut child, rest) = started_until(url, "ingest rate — run 2/3").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&child, "INT");
    let status = tokio::time::timeout(Duration::from_secs(120), child.wait())
        .await
        .expect("the interrupted bench did not exit")
        .unwrap();
    let stderr = rest.await.unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_nothing_left(url).await;
}

#[tokio::test]
async fn bench_on_devdb_reports_every_figure_and_leaves_nothing_behind() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    // devdb asks for a password (any will do); psql must be given one or it would prompt.
    let url = devdb.url().replace("postgres@", "postgres:devdb@");
    // Production refuses without --yes-production, before touching the database.
    let refused = bench_command(&url, "production", &["--runs", "1"])
        .output()
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes-production"));
    // Arguments are validated with the accepted form named.
    let invalid = bench_command(&url, "development", &["--runs", "0"])
        .output()
        .await
        .unwrap();
    assert_eq!(invalid.status.code(), Some(2));
    let said = String::from_utf8_lossy(&invalid.stderr);
    assert!(said.contains("--runs") && said.contains("1..=20"), "{said}");
    assert_nothing_left(&url).await;

    full_run(&url, false).await;
    interrupted_run(&url).await;
    drop(devdb);
}

/// The smallest run the command takes, to its end: its exit status and output.
async fn smallest_run(url: &str) -> std::process::Output {
    bench_command(url, "development", &["--runs", "1", "--rows", "1000"])
        .output()
        .await
        .unwrap()
}

/// Two runs that passed the "another run?" question at the same moment: each asks again
/// once its own schema exists and is locked, and sees the other, so neither goes on with
/// the other running. A run that is gone (its connection closed) is not counted.
#[tokio::test]
async fn two_runs_starting_together_see_each_other_once_their_schemas_exist() {
    use tsdb::bench::scratch::{sweep, Scratch};
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("bench_race").await;
        let pool = database.pool(4).await;
        let mut first = Scratch::create(&pool).await.unwrap();
        let mut second = Scratch::create(&pool).await.unwrap();
        assert_eq!(
            first.others_running().await.unwrap(),
            vec![second.schema().to_string()]
        );
        assert_eq!(
            second.others_running().await.unwrap(),
            vec![first.schema().to_string()]
        );
        // The second steps back; the first then runs alone.
        second.remove().await.unwrap();
        assert!(first.others_running().await.unwrap().is_empty());

        // A run whose connection is gone (a killed process) holds no lock: not "running",
        // and the next sweep removes its schema.
        let mut gone = Scratch::create(&pool).await.unwrap();
        let gone_schema = gone.schema().to_string();
        gone.step_aside().await.unwrap();
        // The server ends the closed connection's backend (and its lock) a moment later.
        let mut swept = sweep(&pool).await.unwrap();
        for _ in 0..50 {
            if !swept.removed.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            swept = sweep(&pool).await.unwrap();
        }
        assert_eq!(swept.removed, vec![gone_schema]);
        assert!(first.others_running().await.unwrap().is_empty());
        assert_eq!(swept.running, vec![first.schema().to_string()]);
        first.remove().await.unwrap();
        nothing_left(&pool).await;
        pool.close().await;
    }
}

#[tokio::test]
async fn bench_on_the_native_tier_uses_copy_and_cleans_up_after_interruptions() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("bench").await;
        let pool = database.pool(2).await;
        full_run(&database.url, true).await;
        interrupted_run(&database.url).await;

        // A killed process cannot clean up: its schema stays until the next run sweeps it.
        let (mut child, rest) = started_until(&database.url, "recent 100 rows — run 1/3").await;
        // While it runs, a second run against the same database is refused, touching nothing.
        let second = smallest_run(&database.url).await;
        let refused = String::from_utf8_lossy(&second.stderr);
        assert!(
            !second.status.success() && refused.contains("another bench run is under way"),
            "{refused}"
        );
        signal(&child, "KILL");
        child.wait().await.unwrap();
        drop(rest);
        let left = scratch_schemas(&pool).await;
        assert_eq!(
            left.len(),
            1,
            "the killed run's schema should still be there"
        );
        // Its session ends once the server notices the client is gone.
        for _ in 0..300 {
            let holders: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = x'4d534245'::int::oid",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if holders == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let output = smallest_run(&database.url).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(
            stderr.contains(&format!("removed {}", left[0])),
            "the next run should say it swept {}: {stderr}",
            left[0]
        );
        nothing_left(&pool).await;
    }
}

/// The page's facts as an admin sees them.
async fn page_facts(console: &Console, cookie: &str) -> Value {
    let reply = console
        .request("POST", "/api/fn/bench")
        .cookie(cookie)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// Polls until no run goes on; returns the facts then and the progress counts seen.
async fn until_idle(console: &Console, cookie: &str) -> (Value, Vec<u64>) {
    let mut seen = Vec::new();
    for _ in 0..1200 {
        let facts = page_facts(console, cookie).await;
        match facts["running"]["progress"]["done"].as_u64() {
            Some(done) => seen.push(done),
            None => return (facts, seen),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bench run never ended");
}

async fn start(console: &Console, cookie: &str, runs: &str, rows: &str) -> support::Reply {
    console
        .request("POST", "/api/fn/start-bench")
        .cookie(cookie)
        .form(&[("runs", runs), ("rows", rows)])
        .send()
        .await
}

#[tokio::test]
async fn the_admin_page_runs_follows_and_stops_a_bench_on_the_native_tier() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("bench_page").await;
        let url = database.url.clone();
        let console = Console::start_on(&url, Box::new(database), false).await;
        console
            .add_user("root", Role::Admin, "admin password 1")
            .await;
        let admin = console.login("root", "admin password 1").await;

        let empty = page_facts(&console, &admin).await;
        assert_eq!(empty["history"], serde_json::json!([]));
        assert_eq!(empty["blocked"], Value::Null);

        for (runs, rows, field) in [
            ("0", "1000", "runs:"),
            ("21", "1000", "runs:"),
            ("1", "999", "rows:"),
        ] {
            let refused = start(&console, &admin, runs, rows).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
            assert!(refused.body.contains(field), "{}", refused.body);
        }

        let started = start(&console, &admin, "1", "2000").await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        let again = start(&console, &admin, "1", "2000").await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "one run at a time: {}",
            again.body
        );
        let (facts, seen) = until_idle(&console, &admin).await;
        assert!(!seen.is_empty(), "the page never saw the run going on");
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "progress went backwards: {seen:?}"
        );
        assert_eq!(facts["last_problem"], Value::Null, "{facts}");
        let history = facts["history"].as_array().unwrap();
        assert_eq!(history.len(), 1, "{facts}");
        assert_eq!(history[0]["started_by"], "root");
        assert_eq!(history[0]["report"]["tests"].as_array().unwrap().len(), 13);
        let audited: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM console.audit_log WHERE action = 'bench.start' AND actor_name = 'root'",
        )
        .fetch_one(&console.pool())
        .await
        .unwrap();
        assert_eq!(audited, 1);

        // A run stopped from the page removes its scratch schema and says so.
        let started = start(&console, &admin, "5", "500000").await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let stopped = console
            .request("POST", "/api/fn/stop-bench")
            .cookie(&admin)
            .send()
            .await;
        assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
        let (facts, _) = until_idle(&console, &admin).await;
        assert!(
            facts["last_problem"]
                .as_str()
                .is_some_and(|p| p.contains("stopped")),
            "{facts}"
        );
        assert_eq!(
            facts["history"].as_array().unwrap().len(),
            1,
            "a stopped run is not recorded"
        );
        assert_nothing_left(&url).await;

        // The console going away (SIGTERM: `serve` calls this first) stops the run and removes
        // its schema before the process ends.
        let started = start(&console, &admin, "5", "500000").await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            console
                .state
                .bench
                .stop_for_shutdown(Duration::from_secs(30))
                .await,
            "the run did not stop within 30 s"
        );
        assert_nothing_left(&url).await;
        assert!(
            console
                .state
                .bench
                .stop_for_shutdown(Duration::from_secs(1))
                .await
        );
        let idle_stop = console
            .request("POST", "/api/fn/stop-bench")
            .cookie(&admin)
            .send()
            .await;
        assert_eq!(idle_stop.status, StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn the_admin_page_explains_why_it_cannot_run_on_a_one_connection_server() {
    let console = Console::start(false).await;
    console
        .add_user("root", Role::Admin, "admin password 1")
        .await;
    let admin = console.login("root", "admin password 1").await;
    let facts = page_facts(&console, &admin).await;
    assert!(
        facts["blocked"]
            .as_str()
            .is_some_and(|b| b.contains("one connection at a time")),
        "{facts}"
    );
    let refused = start(&console, &admin, "1", "1000").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("ms5-console bench"),
        "{}",
        refused.body
    );
}
