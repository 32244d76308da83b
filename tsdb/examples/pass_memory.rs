//! Benchmark: the catalog pass's resident memory, pass after pass, against the database
//! `PASS_MEMORY_URL` names (for example the 50,000-chunk cluster `end2end/many_chunks.sql`
//! builds): one full pass, then incremental ones, each kept as the console keeps the
//! latest snapshot, printing the pass's time and the process's RSS after it. The anchor
//! is the first (full) pass on the same database in the same run.
//!
//! Settings: `PASS_MEMORY_URL` (required), `PASS_MEMORY_PASSES` (2-1000, default 30).
//! Run with `cargo run --release -p tsdb --example pass_memory`.

use std::str::FromStr;
use std::time::Instant;
use tsdb::capabilities::Capabilities;
use tsdb::monitoring::{gather, Pass, PassCache};

/// Resident memory in MiB, from /proc (Linux).
fn rss_mib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / (1024 * 1024))
}

fn fail(message: String) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("PASS_MEMORY_URL").unwrap_or_else(|_| {
        fail("PASS_MEMORY_URL: expected a postgres:// URL of a TimescaleDB database".into())
    });
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| fail(format!("PASS_MEMORY_URL: not a postgres:// URL ({e})")));
    let passes = match std::env::var("PASS_MEMORY_PASSES") {
        Err(_) => 30,
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if (2..=1000).contains(&n) => n,
            _ => fail(format!(
                "PASS_MEMORY_PASSES: expected a whole number from 2 to 1000, got {text:?}"
            )),
        },
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .after_connect(|conn, _meta| Box::pin(tsdb::connection::prepare(conn)))
        .connect_with(options)
        .await
        .unwrap_or_else(|e| fail(format!("PASS_MEMORY_URL: cannot connect ({e})")));
    let capabilities = Capabilities::probe(&pool)
        .await
        .unwrap_or_else(|e| fail(format!("probing the database: {e}")));
    let mut cache = PassCache::default();
    let mut latest = None;
    for i in 0..passes {
        let pass = if i == 0 {
            Pass::Full
        } else {
            Pass::Incremental
        };
        let started = Instant::now();
        let snapshot = gather(&pool, &capabilities, &mut cache, pass)
            .await
            .unwrap_or_else(|e| fail(format!("pass {i}: {e}")));
        let chunks = snapshot.chunks.len();
        // The console keeps the latest snapshot and drops the one before.
        latest = Some(std::sync::Arc::new(snapshot));
        println!(
            "pass {i:>3} ({pass:?}): {:>8.3} s, {chunks} chunks, RSS {} MiB",
            started.elapsed().as_secs_f64(),
            rss_mib().map_or("?".into(), |m| m.to_string())
        );
    }
    drop(latest);
}
