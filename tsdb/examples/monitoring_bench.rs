//! Benchmark: the monitoring pass against the naive per-hypertable calls, at 10,000
//! chunks over 100 hypertables, on devdb or on a private native cluster (TimescaleDB
//! 2.28.3 on PostgreSQL 15.18, with `jit = off` on every connection, as the console runs).
//!
//! Prints, from one run on one database, min / median / max over `BENCH_RUNS` runs: the
//! anchor (one `hypertable_detailed_size` and one `hypertable_compression_stats` per
//! hypertable, as the seed does), our full pass, the same through TimescaleDB's public
//! API only (what a release newer than the catalog contract gets), our incremental pass with nothing
//! changed, after rows were written to ten current chunks and after a backfill into ten
//! old ones (with how many of those tables the pass then got right), whether the full
//! pass's figures equal the anchor's, and what a request then costs (reading the
//! snapshot, filtering a chunk page, the storage page's reads).
//!
//! Settings: `BENCH_TIER` (`devdb`, the default, or `native`), `BENCH_TABLES` (1-2000,
//! default 100), `BENCH_CHUNKS` per table (2-2000, default 100), `BENCH_RUNS` (1-100,
//! default 3). Run with `make bench-catalog` / `make bench-catalog-native`.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tsdb::capabilities::Capabilities;
use tsdb::chunk_query::ChunkQuery;
use tsdb::monitoring::{gather, Pass, PassCache};
use tsdb::testing::{connect, DevDb};

/// A whole-number setting from the environment, refused with its name and range.
fn setting(name: &str, default: usize, low: usize, high: usize) -> usize {
    let Ok(text) = std::env::var(name) else {
        return default;
    };
    match text.trim().parse::<usize>() {
        Ok(n) if (low..=high).contains(&n) => n,
        _ => {
            eprintln!("{name}: expected a whole number from {low} to {high}, got {text:?}");
            std::process::exit(2);
        }
    }
}

/// TimescaleDB's own figures for one hypertable: total bytes, and compressed chunks with
/// bytes before and after compression.
type Official = (i64, Option<(i64, i64, i64)>);

fn sorted(samples: &[Duration]) -> Vec<Duration> {
    let mut samples = samples.to_vec();
    samples.sort();
    samples
}

fn median(samples: &[Duration]) -> Duration {
    let samples = sorted(samples);
    samples[samples.len() / 2]
}

/// `min / median / max` in seconds, and the median as a multiple of the anchor's.
fn spread(samples: &[Duration], anchor: Duration) -> String {
    let s = sorted(samples);
    format!(
        "{:>8.3} {:>8.3} {:>8.3} s  {:>6.3} x anchor",
        s[0].as_secs_f64(),
        s[s.len() / 2].as_secs_f64(),
        s[s.len() - 1].as_secs_f64(),
        median(samples).as_secs_f64() / anchor.as_secs_f64()
    )
}

#[tokio::main]
async fn main() {
    let tables = setting("BENCH_TABLES", 100, 1, 2000);
    let chunks = setting("BENCH_CHUNKS", 100, 2, 2000);
    let runs = setting("BENCH_RUNS", 3, 1, 100);
    let tier = std::env::var("BENCH_TIER").unwrap_or_else(|_| "devdb".into());
    // The server is kept alive (and stopped at the end) by holding it.
    let (server, pool): (Box<dyn std::any::Any>, _) = match tier.as_str() {
        "devdb" => {
            let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
            let pool = connect(&devdb.url()).await;
            (Box::new(devdb), pool)
        }
        "native" => {
            let Some(cluster) = tokio::task::spawn_blocking(tsdb::testing::private_native_cluster)
                .await
                .unwrap()
            else {
                eprintln!("BENCH_TIER=native: no native build (make deps-native builds it)");
                std::process::exit(3);
            };
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _meta| Box::pin(tsdb::connection::prepare(conn)))
                .connect_with(PgConnectOptions::from_str(&cluster.url()).unwrap())
                .await
                .unwrap();
            sqlx::query("CREATE EXTENSION IF NOT EXISTS timescaledb")
                .execute(&pool)
                .await
                .unwrap();
            (Box::new(cluster), pool)
        }
        other => {
            eprintln!("BENCH_TIER: expected devdb or native, got {other:?}");
            std::process::exit(2);
        }
    };
    tsdb::migrations::run(&pool).await.unwrap();
    let version: String = sqlx::query_scalar(
        "SELECT format('PostgreSQL %s, TimescaleDB %s, jit %s', current_setting('server_version'),
                       extversion, current_setting('jit', true))
           FROM pg_extension WHERE extname = 'timescaledb'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    println!("{tier}: {version}");

    let started = Instant::now();
    sqlx::query("CREATE SCHEMA bench")
        .execute(&pool)
        .await
        .unwrap();
    for t in 0..tables {
        // One row per hour, one-hour chunks: `chunks` chunks per table; half compressed.
        let statements = [
            format!("CREATE TABLE bench.t{t} (ts timestamptz NOT NULL, device int NOT NULL, v double precision)"),
            format!("SELECT create_hypertable('bench.t{t}', by_range('ts', interval '1 hour'))"),
            format!(
                "INSERT INTO bench.t{t} SELECT now() - make_interval(hours => h), h % 4, random()
                   FROM generate_series(1, {chunks}) AS h"
            ),
            format!("ALTER TABLE bench.t{t} SET (timescaledb.compress, timescaledb.compress_segmentby = 'device')"),
            format!(
                "SELECT compress_chunk(c) FROM show_chunks('bench.t{t}', older_than => now() - make_interval(hours => {}))  c",
                chunks / 2
            ),
        ];
        for statement in statements {
            sqlx::query(&statement).execute(&pool).await.unwrap();
        }
        if t % 10 == 9 {
            eprintln!(
                "  built {} of {tables} hypertables ({:.0} s)",
                t + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    let (chunk_count, compressed): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks
          WHERE hypertable_schema = 'bench'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    println!(
        "data: {tables} hypertables, {chunk_count} chunks ({compressed} compressed) built in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let names: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', hypertable_schema, hypertable_name) FROM timescaledb_information.hypertables",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let capabilities = Capabilities::probe(&pool).await.unwrap();
    // The same database read as a TimescaleDB newer than the catalog contract would be.
    let public = capabilities
        .clone()
        .reading_public_api_only("the bench's public-API pass");

    let mut naive = Vec::new();
    let mut full = Vec::new();
    let mut incremental = Vec::new();
    let mut written = Vec::new();
    let mut backfilled = Vec::new();
    let mut swept = Vec::new();
    let mut fallback = Vec::new();
    let mut seen_backfill = 0;
    let mut sized = (0, 0, 0, 0, 0);
    let mut differ = Vec::new();
    for run in 0..runs {
        let t = Instant::now();
        let mut official: HashMap<&str, Official> = HashMap::new();
        for name in &names {
            let total: i64 = sqlx::query_scalar(
                "SELECT total_bytes FROM hypertable_detailed_size($1::regclass)",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
            let stats: Option<(i64, i64, i64)> = sqlx::query_as(
                "SELECT number_compressed_chunks::bigint,
                        COALESCE(before_compression_total_bytes, 0)::bigint,
                        COALESCE(after_compression_total_bytes, 0)::bigint
                   FROM hypertable_compression_stats($1::regclass)",
            )
            .bind(name)
            .fetch_optional(&pool)
            .await
            .unwrap();
            official.insert(name, (total, stats));
        }
        naive.push(t.elapsed());

        let mut cache = PassCache::default();
        let t = Instant::now();
        let first = gather(&pool, &capabilities, &mut cache, Pass::Full)
            .await
            .unwrap();
        full.push(t.elapsed());
        let t = Instant::now();
        gather(&pool, &public, &mut PassCache::default(), Pass::Full)
            .await
            .unwrap();
        fallback.push(t.elapsed());
        // Equal to the anchor, hypertable by hypertable (a table whose sizes moved in
        // between, autovacuum adding a map, would show here: none is written meanwhile).
        differ = first
            .hypertables
            .iter()
            .filter(|h| {
                let key = format!("{}.{}", h.schema, h.name);
                let ours = (
                    h.total_bytes,
                    Some((
                        h.compressed_chunk_count,
                        h.before_compression_bytes,
                        h.after_compression_bytes,
                    )),
                );
                official
                    .get(key.as_str())
                    .is_some_and(|o| o.0 != ours.0 || (o.1.is_some() && o.1 != ours.1))
            })
            .map(|h| h.qualified())
            .collect::<Vec<_>>();
        let t = Instant::now();
        let next = gather(&pool, &capabilities, &mut cache, Pass::Incremental)
            .await
            .unwrap();
        incremental.push(t.elapsed());
        // Rows into the newest chunk of ten tables, then a pass that must see them.
        for table in 0..tables.min(10) {
            sqlx::query(&format!(
                "INSERT INTO bench.t{table} SELECT now() - interval '1 minute', g % 4, {run}
                   FROM generate_series(1, 500) g"
            ))
            .execute(&pool)
            .await
            .unwrap();
        }
        let t = Instant::now();
        let after = gather(&pool, &capabilities, &mut cache, Pass::Incremental)
            .await
            .unwrap();
        written.push(t.elapsed());
        // Rows into an old, uncompressed chunk of ten tables (a backfill): only
        // PostgreSQL's write counters say so. pg_stat_force_next_flush publishes them at
        // once instead of up to 10 s later; PGlite never publishes them.
        let mut writer = pool.acquire().await.unwrap();
        for table in 0..tables.min(10) {
            sqlx::query(&format!(
                "INSERT INTO bench.t{table} SELECT now() - make_interval(hours => {}), g % 4, {run}
                   FROM generate_series(1, 500) g",
                chunks / 4
            ))
            .execute(&mut *writer)
            .await
            .unwrap();
        }
        tsdb::testing::publish_counters(&mut writer).await;
        drop(writer);
        let t = Instant::now();
        let later = gather(&pool, &capabilities, &mut cache, Pass::Incremental)
            .await
            .unwrap();
        backfilled.push(t.elapsed());
        seen_backfill = 0;
        for table in 0..tables.min(10) {
            let name = format!("t{table}");
            let official: i64 = sqlx::query_scalar(
                "SELECT total_bytes FROM hypertable_detailed_size(format('bench.%I', $1::text)::regclass)",
            )
            .bind(&name)
            .fetch_one(&pool)
            .await
            .unwrap();
            let ours = later
                .hypertables
                .iter()
                .find(|h| h.schema == "bench" && h.name == name)
                .map(|h| h.total_bytes);
            seen_backfill += usize::from(ours == Some(official));
        }
        // The pass that finds every uncompressed chunk's size 10 minutes old: it re-reads
        // the periodic slice (a tenth of the chunks at most), the worst incremental pass.
        cache.backdate(tsdb::monitoring::UNSETTLED_MAX_AGE);
        let t = Instant::now();
        let sweep = gather(&pool, &capabilities, &mut cache, Pass::Incremental)
            .await
            .unwrap();
        swept.push(t.elapsed());
        sized = (
            first.sized_relations,
            next.sized_relations,
            after.sized_relations,
            later.sized_relations,
            sweep.sized_relations,
        );
    }

    // What a request costs once the snapshot exists.
    let mut cache = PassCache::default();
    let snapshot = gather(&pool, &capabilities, &mut cache, Pass::Full)
        .await
        .unwrap();
    let t = Instant::now();
    let json = serde_json::to_string(&snapshot.hypertables).unwrap();
    let hypertables_json = t.elapsed();
    let query = ChunkQuery::parse(|name| match name {
        "compressed" => Some("false".into()),
        "sort" => Some("-total_bytes".into()),
        _ => None,
    })
    .unwrap();
    let t = Instant::now();
    let page = query.apply(&snapshot.chunks);
    let chunk_page = t.elapsed();

    // The storage sampler's pass: the snapshot's samples in one INSERT (it reads no
    // catalog), measured beside the incremental pass it rides on.
    let mut sampler = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let samples = tsdb::storage::samples_of(&snapshot);
        tsdb::storage::history::record(&pool, &samples)
            .await
            .unwrap();
        sampler.push(t.elapsed());
    }
    // A month of hourly samples of every table, then what the storage page computes from
    // it: the 30-day trends (4-hour buckets) and the outlook (hourly points).
    let hour = chrono::Duration::hours(1);
    let mut month = Vec::new();
    for h in 1..=720 {
        month.extend(
            tsdb::storage::samples_of(&snapshot)
                .into_iter()
                .map(|mut s| {
                    s.sampled_at -= hour * h;
                    s.generated = true;
                    s
                }),
        );
    }
    for batch in month.chunks(20_000) {
        tsdb::storage::history::record(&pool, batch).await.unwrap();
    }
    let t = Instant::now();
    let since = snapshot.taken_at - chrono::Duration::days(30);
    let range = tsdb::storage::trends::Range::Month;
    let read = tsdb::storage::history::read(&pool, Some(since), range.bucket_seconds())
        .await
        .unwrap();
    let trends =
        tsdb::storage::trends::build(&read, range, tsdb::storage::trends::View::Tables, None)
            .unwrap();
    let trends_time = t.elapsed();
    let t = Instant::now();
    let hourly = tsdb::storage::history::read(
        &pool,
        Some(since),
        tsdb::storage::outlook::FIT_BUCKET_SECONDS,
    )
    .await
    .unwrap();
    let outlook = tsdb::storage::outlook::outlook(
        &tsdb::storage::outlook::states_of(&snapshot),
        &hourly,
        snapshot.database.size_bytes as f64,
        Default::default(),
        90,
        snapshot.taken_at,
    );
    let outlook_time = t.elapsed();

    let anchor = median(&naive);
    println!();
    println!(
        "{:<52} {:>8} {:>8} {:>8}    ({runs} runs)",
        "", "min", "median", "max"
    );
    println!(
        "{:<52} {}",
        "anchor: detailed_size + compression_stats each",
        spread(&naive, anchor)
    );
    println!(
        "{:<52} {}  ({} relations sized)",
        "ours: full pass",
        spread(&full, anchor),
        sized.0
    );
    println!(
        "{:<52} {}",
        "ours: full pass, public API only (2.30+ fallback)",
        spread(&fallback, anchor)
    );
    println!(
        "{:<52} {}  ({} relations sized)",
        "ours: incremental pass, nothing changed",
        spread(&incremental, anchor),
        sized.1
    );
    println!(
        "{:<52} {}  ({} relations sized)",
        "ours: incremental pass, 10 current chunks written",
        spread(&written, anchor),
        sized.2
    );
    println!(
        "{:<52} {}  ({} relations sized; {seen_backfill} of {} tables then equal to hypertable_detailed_size)",
        "ours: incremental pass, 10 old chunks backfilled",
        spread(&backfilled, anchor),
        sized.3,
        tables.min(10)
    );
    println!(
        "{:<52} {}  ({} relations sized)",
        "ours: incremental pass with a periodic slice due",
        spread(&swept, anchor),
        sized.4
    );
    println!(
        "full pass vs the anchor's figures: {} of {} hypertables differ{}",
        differ.len(),
        names.len(),
        if differ.is_empty() {
            String::new()
        } else {
            format!(" ({})", differ.join(", "))
        }
    );
    println!(
        "{:<58} {:>10.3} ms  ({} bytes)",
        "request: hypertables JSON from the snapshot",
        hypertables_json.as_secs_f64() * 1e3,
        json.len()
    );
    println!(
        "{:<58} {:>10.3} ms  ({} of {} chunks match)",
        "request: one filtered, sorted chunk page",
        chunk_page.as_secs_f64() * 1e3,
        page.total,
        snapshot.chunks.len()
    );
    println!(
        "{:<58} {:>10.3} ms  ({} samples; anchor: the incremental pass above)",
        "storage sampler: one pass",
        median(&sampler).as_secs_f64() * 1e3,
        tsdb::storage::samples_of(&snapshot).len()
    );
    println!(
        "{:<58} {:>10.3} ms  ({} samples read, {} points drawn)",
        "storage page: 30-day trends from the history",
        trends_time.as_secs_f64() * 1e3,
        read.len(),
        trends.times.len()
    );
    println!(
        "{:<58} {:>10.3} ms  ({} samples read, {} tables forecast)",
        "storage page: outlook (forecast, budget, what-ifs)",
        outlook_time.as_secs_f64() * 1e3,
        hourly.len(),
        outlook.tables.len()
    );
    drop(server);
}
