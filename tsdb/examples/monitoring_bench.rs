//! Benchmark: the monitoring pass against the naive per-hypertable calls, on devdb,
//! at 10,000 chunks over 100 hypertables (`BENCH_TABLES`, `BENCH_CHUNKS` to change).
//!
//! Prints, from one run on one database: the naive approach (one
//! `hypertable_detailed_size` and one `hypertable_compression_stats` per hypertable, as
//! the seed does), our full pass, our incremental pass, and what a request then costs
//! (reading the snapshot, filtering a chunk page, rendering Prometheus-sized output).
//!
//! Run with `make bench`.

use std::time::{Duration, Instant};
use tsdb::capabilities::Capabilities;
use tsdb::chunk_query::ChunkQuery;
use tsdb::monitoring::{gather, Pass, SizeCache};
use tsdb::testing::{connect, DevDb};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() {
    let tables = env("BENCH_TABLES", 100);
    let chunks = env("BENCH_CHUNKS", 100);
    let runs = env("BENCH_RUNS", 3);
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    tsdb::migrations::run(&pool).await.unwrap();

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

    let mut naive = Vec::new();
    let mut full = Vec::new();
    let mut incremental = Vec::new();
    let mut sized = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        for name in &names {
            sqlx::query("SELECT * FROM hypertable_detailed_size($1::regclass)")
                .bind(name)
                .fetch_all(&pool)
                .await
                .unwrap();
            sqlx::query("SELECT * FROM hypertable_compression_stats($1::regclass)")
                .bind(name)
                .fetch_all(&pool)
                .await
                .unwrap();
        }
        naive.push(t.elapsed());

        let mut cache = SizeCache::default();
        let t = Instant::now();
        let first = gather(&pool, &capabilities, &mut cache, Pass::Full)
            .await
            .unwrap();
        full.push(t.elapsed());
        let t = Instant::now();
        let next = gather(&pool, &capabilities, &mut cache, Pass::Incremental)
            .await
            .unwrap();
        incremental.push(t.elapsed());
        sized = (first.sized_relations, next.sized_relations);
    }

    // What a request costs once the snapshot exists.
    let mut cache = SizeCache::default();
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

    println!();
    println!("{:<58} {:>12}", "median of runs", format!("{runs} runs"));
    println!(
        "{:<58} {:>10.3} s",
        "naive: detailed_size + compression_stats per hypertable",
        median(naive).as_secs_f64()
    );
    println!(
        "{:<58} {:>10.3} s   ({} relations sized)",
        "ours: full pass",
        median(full).as_secs_f64(),
        sized.0
    );
    println!(
        "{:<58} {:>10.3} s   ({} relations sized)",
        "ours: incremental pass",
        median(incremental).as_secs_f64(),
        sized.1
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
        median(sampler).as_secs_f64() * 1e3,
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
    drop(devdb);
}
