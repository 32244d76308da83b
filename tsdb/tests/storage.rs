//! Storage history against a real TimescaleDB, on devdb (2.23-dev) and on the native tier
//! (2.28.3): a snapshot's samples round-trip through the history table; the demo's
//! back-fill grows and compresses as the chunks did; thinning keeps one sample per bucket;
//! the history table's own policy (a built-in managed table) drops old samples when its
//! retention job runs; the forecast read back from the table matches a hand-computed
//! series; the outlook takes the live policies from the catalog.

use chrono::{DateTime, Duration, DurationRound, Utc};
use std::collections::BTreeMap;
use std::str::FromStr;
use tsdb::capabilities::Capabilities;
use tsdb::demo::DemoVolume;
use tsdb::facts::Snapshot;
use tsdb::interval::PolicyInterval;
use tsdb::monitoring::{gather, Pass, PassCache};
use tsdb::policy::apply::StepOutcome;
use tsdb::policy::desired::{parse_patterns, PolicySource};
use tsdb::policy::{Policy, PolicyAge};
use tsdb::storage::forecast::Lifecycle;
use tsdb::storage::outlook::{self, Budget, TableState};
use tsdb::storage::trends::{self, Range, View};
use tsdb::storage::{backfill, history, samples_of, RelationKind, StorageSample};
use tsdb::testing::{connect, native_tiers, DevDb};

const MIB: f64 = 1024.0 * 1024.0;

async fn snapshot(pool: &sqlx::PgPool) -> Snapshot {
    let capabilities = Capabilities::probe(pool).await.unwrap();
    gather(pool, &capabilities, &mut PassCache::default(), Pass::Full)
        .await
        .unwrap()
}

/// The console's policy source: the demo tables by pattern, the history table built in.
fn source() -> PolicySource {
    let retention = Some(PolicyAge::Interval(
        PolicyInterval::from_str("90 days").unwrap(),
    ));
    PolicySource {
        defaults: Policy::seed(),
        tables: BTreeMap::new(),
        managed_patterns: parse_patterns("factory_telemetry.*").unwrap(),
        builtin: [(history::TABLE.to_string(), history::own_policy(retention))].into(),
    }
}

async fn apply_policies(pool: &sqlx::PgPool) {
    let report = tsdb::testing::policies::apply_confirmed(pool, &source()).await;
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome != StepOutcome::Applied)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Microseconds, as PostgreSQL stores them.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::microseconds(1)).unwrap()
}

/// A synthetic relation growing `per_day` bytes a day, sampled daily for 20 days to `now`.
fn synthetic(now: DateTime<Utc>, per_day: f64) -> Vec<StorageSample> {
    (0..=20)
        .map(|i| {
            let bytes = (50.0 * MIB + per_day * f64::from(i)) as i64;
            StorageSample {
                sampled_at: now - Duration::days(i64::from(20 - i)),
                kind: RelationKind::Hypertable,
                relation: "lab.synthetic".into(),
                total_bytes: bytes,
                compressed_bytes: 0,
                uncompressed_bytes: bytes,
                before_compression_bytes: 0,
                chunk_count: 1,
                compressed_chunk_count: 0,
                approximate_rows: 0,
                generated: true,
            }
        })
        .collect()
}

async fn scenario(pool: &sqlx::PgPool) {
    tsdb::migrations::run(pool).await.unwrap();
    let volume = DemoVolume {
        days: 20,
        equipment: 2,
        sample_seconds: 900,
    };
    tsdb::demo::load(pool, volume, PolicyInterval::from_str("7 days").unwrap())
        .await
        .unwrap();
    apply_policies(pool).await;
    let snap = snapshot(pool).await;

    // A pass's samples round-trip.
    let samples = samples_of(&snap);
    assert!(samples.iter().any(|s| s.relation == history::TABLE));
    let written = history::record(pool, &samples).await.unwrap();
    assert_eq!(written as usize, samples.len());
    assert_eq!(
        history::latest(pool).await.unwrap(),
        Some(micros(snap.taken_at))
    );
    let back = history::read(pool, None, 1).await.unwrap();
    let metric = |list: &[StorageSample]| {
        list.iter()
            .find(|s| s.relation == "factory_telemetry.metric_hist")
            .cloned()
            .unwrap()
    };
    let original = metric(&samples);
    assert_eq!(
        metric(&back),
        StorageSample {
            sampled_at: micros(original.sampled_at),
            ..original.clone()
        }
    );
    assert!(
        original.compressed_chunk_count > 0,
        "the demo compresses its old chunks"
    );

    // The back-fill: 20 days of history that grows and compresses as the chunks did.
    let past = backfill::reconstruct(&snap, Duration::hours(6));
    let metric_past: Vec<&StorageSample> = past
        .iter()
        .filter(|s| s.relation == "factory_telemetry.metric_hist")
        .collect();
    // From the oldest chunk of any table (a 30-day chunk may start before the data) to
    // now, every 6 hours.
    let oldest = snap
        .chunks
        .iter()
        .filter_map(|c| c.range_start)
        .min()
        .unwrap();
    let expected = ((snap.taken_at - oldest).num_hours() / 6) as usize;
    assert!(
        metric_past.len().abs_diff(expected) <= 1,
        "{} samples for {expected} steps",
        metric_past.len()
    );
    let raw: Vec<i64> = metric_past
        .iter()
        .map(|s| s.raw_equivalent_bytes())
        .collect();
    assert!(raw.windows(2).all(|w| w[0] <= w[1]));
    let last = metric_past.last().unwrap();
    assert_eq!(last.compressed_chunk_count, original.compressed_chunk_count);
    assert!(metric_past[0].compressed_chunk_count == 0);
    history::record(pool, &past).await.unwrap();

    // Thinning: at most one sample per relation and day.
    let daily = history::read(pool, None, 86_400).await.unwrap();
    let metric_days: Vec<DateTime<Utc>> = daily
        .iter()
        .filter(|s| s.relation == "factory_telemetry.metric_hist")
        .map(|s| s.sampled_at)
        .collect();
    let days = (snap.taken_at - oldest).num_days() as usize;
    assert!(
        metric_days.len().abs_diff(days) <= 2,
        "{} for {days} days",
        metric_days.len()
    );

    // Trends of the last 30 days: the raw table grows, its compression saves.
    let month = history::read(pool, Some(snap.taken_at - Duration::days(30)), 4 * 3600)
        .await
        .unwrap();
    let trends = trends::build(&month, Range::Month, View::Tables, None).unwrap();
    let growth = trends
        .growth
        .iter()
        .find(|g| g.relation == "factory_telemetry.metric_hist")
        .unwrap();
    assert!(growth.per_day.unwrap() > 0.0);
    assert!(growth.compression_saving.unwrap() > 0.5);

    // The outlook takes the live policies: compress after 7 days, drop after 90 (seed).
    let states = outlook::states_of(&snap);
    let metric_state = states
        .iter()
        .find(|s| s.relation == "factory_telemetry.metric_hist")
        .unwrap();
    assert_eq!(metric_state.lifecycle.compress_after_days, Some(7.0));
    assert_eq!(metric_state.lifecycle.retention_days, Some(90.0));
    assert!(metric_state.ratio_measured);
    let view = outlook::outlook(
        &states,
        &month,
        snap.database.size_bytes as f64,
        Budget::default(),
        90,
        snap.taken_at,
    );
    assert!(view.database.is_some());
    let metric_outlook = view
        .tables
        .iter()
        .find(|t| t.relation == "factory_telemetry.metric_hist")
        .unwrap();
    assert!(metric_outlook.forecast.is_some(), "{metric_outlook:?}");

    // A hand-computed series read back from the table: 1 MiB a day, no policies.
    let now = snap.taken_at;
    history::record(pool, &synthetic(now, MIB)).await.unwrap();
    let read_back = history::read(pool, Some(now - Duration::days(30)), 3600)
        .await
        .unwrap();
    let state = TableState {
        relation: "lab.synthetic".into(),
        kind: RelationKind::Hypertable,
        bytes_now: 70.0 * MIB,
        held_days: 20.0,
        lifecycle: Lifecycle::default(),
        ratio_measured: false,
        compression_enabled: false,
    };
    let budget = Budget {
        bytes: Some((100.0 * MIB) as u64),
        volume_free_bytes: None,
    };
    let synthetic_view = outlook::outlook(&[state], &read_back, 70.0 * MIB, budget, 90, now);
    let day90 = synthetic_view.tables[0].at_horizon().unwrap();
    let error = (day90 - 160.0 * MIB).abs() / (160.0 * MIB);
    eprintln!(
        "read-back synthetic series at 90 days: error {:.4} %",
        error * 100.0
    );
    assert!(error < 0.01, "{day90}");
    assert_eq!(synthetic_view.budget_day, Some(30));

    // The history keeps to its own retention: 90 days here; older samples go when the
    // retention job runs.
    let ancient: Vec<StorageSample> = synthetic(now - Duration::days(200), MIB);
    history::record(pool, &ancient).await.unwrap();
    let job: i32 = sqlx::query_scalar(
        "SELECT job_id FROM timescaledb_information.jobs
          WHERE proc_name = 'policy_retention' AND hypertable_schema = 'console'
            AND hypertable_name = 'storage_samples'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let drop_after: String = sqlx::query_scalar(
        "SELECT config ->> 'drop_after' FROM timescaledb_information.jobs WHERE job_id = $1",
    )
    .bind(job)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(drop_after, "90 days");
    tsdb::testing::scheduler::call_run_job(pool, job).await;
    let oldest: DateTime<Utc> =
        sqlx::query_scalar("SELECT min(sampled_at) FROM console.storage_samples")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(oldest > now - Duration::days(100), "{oldest}");
}

#[tokio::test]
async fn storage_history_on_devdb() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    scenario(&pool).await;
}

#[tokio::test]
async fn storage_history_on_the_native_tier() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("storage").await;
        let pool = database.pool(4).await;
        scenario(&pool).await;
        pool.close().await;
    }
}
