//! The compression advisor against real databases (devdb 2.23-dev and the native tier
//! 2.28.3): it picks the obvious segment-by on the demo telemetry and on a table built to
//! have one, shows TimescaleDB's own defaults, and its trial compresses a chunk's copy
//! with the current and suggested settings and leaves nothing behind.

use std::str::FromStr;
use tsdb::advisor::inspect::advise;
use tsdb::advisor::trial::{self, Setting};
use tsdb::capabilities::Capabilities;
use tsdb::demo::DemoVolume;
use tsdb::facts::Snapshot;
use tsdb::interval::PolicyInterval;
use tsdb::monitoring::{gather, Pass, PassCache};
use tsdb::testing::{connect, native_tiers, DevDb};

async fn snapshot(pool: &sqlx::PgPool) -> Snapshot {
    let capabilities = Capabilities::probe(pool).await.unwrap();
    gather(pool, &capabilities, &mut PassCache::default(), Pass::Full)
        .await
        .unwrap()
}

/// Scratch schemas or hypertables of trials (one connection: devdb has no other).
async fn leftovers(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ms5_trial_%')
              + (SELECT count(*) FROM _timescaledb_catalog.hypertable WHERE schema_name LIKE 'ms5_trial_%')",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

async fn scenario(pool: &sqlx::PgPool) {
    tsdb::migrations::run(pool).await.unwrap();
    let volume = DemoVolume {
        days: 6,
        equipment: 4,
        sample_seconds: 900,
    };
    tsdb::demo::load(pool, volume, PolicyInterval::from_str("3 days").unwrap())
        .await
        .unwrap();
    // 5,000 sensors at 20 sites, read every 10 minutes for two days; queried by site.
    sqlx::raw_sql(
        "CREATE SCHEMA lab;
         CREATE TABLE lab.readings (ts timestamptz NOT NULL, sensor int NOT NULL,
                                    site text NOT NULL, value float8);
         SELECT create_hypertable('lab.readings', by_range('ts', interval '1 day'));
         CREATE INDEX readings_site_ts ON lab.readings (site, ts DESC);
         INSERT INTO lab.readings
              SELECT t, s, 'site-' || (s % 20), random()
                FROM generate_series(date_trunc('day', now()) - interval '2 days',
                                     date_trunc('day', now()) - interval '1 day' - interval '1 minute',
                                     interval '2 hours') AS t,
                     generate_series(1, 5000) AS s;",
    )
    .execute(pool)
    .await
    .unwrap();
    let snap = snapshot(pool).await;
    let table = |name: &str| {
        snap.hypertables
            .iter()
            .find(|h| h.qualified() == name)
            .unwrap_or_else(|| panic!("{name} in the snapshot"))
    };
    let mut conn = pool.acquire().await.unwrap();
    let capabilities = Capabilities::probe_on(&mut conn).await.unwrap();

    let metric = advise(
        &mut conn,
        &capabilities,
        table("factory_telemetry.metric_hist"),
        &snap.chunks,
    )
    .await
    .unwrap();
    assert_eq!(metric.segment_by.items, ["equipment_id"], "{metric:#?}");
    assert!(metric
        .segment_by
        .reason
        .contains("metric_hist_equipment_metric_ts_idx"));
    assert_eq!(metric.order_by.items, ["metric_name", "ts DESC"]);
    assert!(metric.sample_rows > 0);
    let engine = metric
        .engine_segment_by
        .as_ref()
        .expect("2.14+ offers defaults");
    assert!(engine.confidence.is_some());
    assert!(
        metric.current.rows_per_batch.is_some(),
        "the demo compresses old chunks"
    );

    let readings = advise(
        &mut conn,
        &capabilities,
        table("lab.readings"),
        &snap.chunks,
    )
    .await
    .unwrap();
    assert_eq!(readings.segment_by.items, ["site"], "{readings:#?}");
    assert_eq!(readings.order_by.items, ["ts DESC"]);
    let sensor = readings
        .columns
        .iter()
        .find(|c| c.name == "sensor")
        .unwrap();
    assert!(sensor.distinct.unwrap() >= 4_000.0, "{sensor:?}");

    // The trial: current (no segment-by) against the suggestion, then nothing left.
    let columns: Vec<String> = readings.columns.iter().map(|c| c.name.clone()).collect();
    let settings = [
        // Both left to TimescaleDB's defaults, as a table compressed without settings has.
        Setting {
            label: "none".into(),
            segment_by: Vec::new(),
            order_by: Vec::new(),
        },
        Setting {
            label: "suggested".into(),
            segment_by: readings.segment_by.items.clone(),
            order_by: readings.order_by.items.clone(),
        },
    ];
    let result = trial::run(
        &mut conn,
        &capabilities,
        table("lab.readings"),
        &snap.chunks,
        &columns,
        &settings,
    )
    .await
    .unwrap();
    assert_eq!(result.rows, 12 * 5_000);
    for tried in &result.results {
        assert!(tried.ratio().unwrap() > 1.0, "{tried:?}");
        assert!(tried.rows_per_batch.unwrap() >= 100.0, "{tried:?}");
    }
    assert_eq!(leftovers(&mut conn).await, 0);
    // The same trial again on the same connection (a second click): it used to meet
    // TimescaleDB's memory of the first trial's rolled-back copy and fail.
    let again = trial::run(
        &mut conn,
        &capabilities,
        table("lab.readings"),
        &snap.chunks,
        &columns,
        &settings,
    )
    .await
    .unwrap();
    assert_eq!(again.results.len(), result.results.len());
    assert_eq!(leftovers(&mut conn).await, 0);

    // A refused setting fails before anything is created, and leaves nothing either.
    let bad = [Setting {
        label: "bad".into(),
        segment_by: vec!["site; DROP TABLE lab.readings".into()],
        order_by: Vec::new(),
    }];
    let error = trial::run(
        &mut conn,
        &capabilities,
        table("lab.readings"),
        &snap.chunks,
        &columns,
        &bad,
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("segment_by"), "{error}");
    assert_eq!(leftovers(&mut conn).await, 0);
}

#[tokio::test]
async fn advisor_on_devdb() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    scenario(&pool).await;
}

#[tokio::test]
async fn advisor_on_the_native_tier() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("advisor").await;
        let pool = database.pool(4).await;
        scenario(&pool).await;
        pool.close().await;
    }
}
