//! Migrations and demo data on a private devdb instance, including a crash and restart.

use std::str::FromStr;
use tsdb::demo::{DemoReport, DemoVolume};
use tsdb::interval::PolicyInterval;
use tsdb::testing::{connect, DevDb};

const SMALL: DemoVolume = DemoVolume {
    days: 30,
    equipment: 4,
    sample_seconds: 3600,
};

async fn counts(pool: &sqlx::PgPool) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in [
        "metric_hist",
        "energy_consumption",
        "oee_calculations",
        "production_events",
        "fault_event",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM factory_telemetry.{table}"))
            .fetch_one(pool)
            .await
            .unwrap();
        out.push((table.to_string(), n));
    }
    out
}

fn loaded(report: &DemoReport, table: &str) -> u64 {
    report
        .loaded
        .iter()
        .find(|(t, _)| t == table)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

#[tokio::test]
async fn migrations_and_demo_data_are_idempotent_and_survive_a_crash() {
    let mut devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    tsdb::migrations::run(&pool).await.unwrap();
    tsdb::migrations::run(&pool)
        .await
        .expect("a second run is a no-op");

    let hypertables: Vec<(String, String)> = sqlx::query_as(
        "SELECT hypertable_name::text, (SELECT (time_interval)::text FROM timescaledb_information.dimensions d
                 WHERE d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name)
           FROM timescaledb_information.hypertables h WHERE hypertable_schema = 'factory_telemetry' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        hypertables,
        [
            ("energy_consumption".to_string(), "3 days".to_string()),
            ("fault_event".to_string(), "30 days".to_string()),
            ("metric_hist".to_string(), "1 day".to_string()),
            ("oee_calculations".to_string(), "7 days".to_string()),
            ("production_events".to_string(), "7 days".to_string()),
        ]
    );

    let week = PolicyInterval::from_str("7 days").unwrap();
    let first = tsdb::demo::load(&pool, SMALL, week).await.unwrap();
    assert_eq!(first.loaded.len(), 5, "{first:?}");
    // 30 days + the current partial hour, hourly, 4 machines, 4 metrics.
    let samples = loaded(&first, "metric_hist");
    assert!(
        (30 * 24 * 16..=31 * 24 * 16).contains(&samples),
        "{samples}"
    );
    assert!(first.compressed_chunks >= 20, "{first:?}");

    let before = counts(&pool).await;
    assert_eq!(
        before[0].1 as u64, samples,
        "compressed rows must still be counted"
    );

    let second = tsdb::demo::load(&pool, SMALL, week).await.unwrap();
    assert!(second.loaded.is_empty(), "{second:?}");
    assert_eq!(second.skipped.len(), 5);
    assert_eq!(
        counts(&pool).await,
        before,
        "a second load must not duplicate rows"
    );

    let hourly: i64 =
        sqlx::query_scalar("SELECT count(*) FROM factory_telemetry.metric_hist_hourly")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(hourly > 0, "the continuous aggregate was refreshed");

    // A WASM trap kills devdb without warning; the data and every compressed row must be
    // there after the restart (this is also what `LOAD 'timescaledb'` at start protects).
    pool.close().await;
    tokio::task::spawn_blocking(move || {
        devdb.crash_and_restart();
        devdb
    })
    .await
    .map(|devdb| async move {
        let pool = connect(&devdb.url()).await;
        assert_eq!(counts(&pool).await, before);
        pool.close().await;
        drop(devdb);
    })
    .unwrap()
    .await;
}
