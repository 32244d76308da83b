//! The data-loss guard against real drops and refreshes, on devdb and the native tier:
//! for each way a continuous aggregate loses rows (a refresh with no start offset, one
//! reaching past the retention, several refresh policies, a paused one, an aggregate on
//! an aggregate, an aggregate's own retention, a watermark behind the drop boundary, a
//! refresh window widened past the source's retention) the change is refused until the
//! loss is accepted, nothing is lost while it is refused, and once accepted the drop and
//! the refresh really do lose those rows, so the guard's warning was true. And a change
//! the guard lets through without an aggregate warning loses no aggregate row.

use std::collections::BTreeMap;
use tsdb::policy::apply::{Applied, Intent};
use tsdb::policy::desired::PolicySource;
use tsdb::policy::guard::{Confirmations, Loss};
use tsdb::policy::{HypertableName, Policy, PolicyEdit, PolicyOverride};
use tsdb::testing::policies::{apply_with, confirm_everything, save};
use tsdb::testing::{connect, native_tiers, oldest_tier, scheduler, DevDb};

fn source() -> PolicySource {
    PolicySource {
        defaults: Policy::seed(),
        tables: BTreeMap::new(),
        managed_patterns: Vec::new(),
        builtin: Default::default(),
    }
}

/// `schema.readings` with 30 days of hourly rows, one chunk a day, and `hourly`, an
/// aggregate of it materialized in full.
async fn fixture(pool: &sqlx::PgPool, schema: &str) {
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA {schema};
         CREATE TABLE {schema}.readings (ts timestamptz NOT NULL, v int NOT NULL);
         SELECT create_hypertable('{schema}.readings', by_range('ts', interval '1 day'));
         INSERT INTO {schema}.readings
              SELECT g, 1 FROM generate_series(now() - interval '30 days', now(), interval '1 hour') g;
         CREATE MATERIALIZED VIEW {schema}.hourly WITH (timescaledb.continuous) AS
              SELECT time_bucket(interval '1 hour', ts) AS bucket, sum(v) AS total
                FROM {schema}.readings GROUP BY 1 WITH NO DATA;"
    ))
    .execute(pool)
    .await
    .unwrap();
}

/// The fixture with `schema.daily`, an aggregate of `hourly`; both materialized in full.
async fn daily_on_hourly(pool: &sqlx::PgPool, schema: &str) {
    fixture(pool, schema).await;
    sqlx::raw_sql(&format!(
        "CREATE MATERIALIZED VIEW {schema}.daily WITH (timescaledb.continuous) AS
              SELECT time_bucket(interval '1 day', bucket) AS day, sum(total) AS total
                FROM {schema}.hourly GROUP BY 1 WITH NO DATA;"
    ))
    .execute(pool)
    .await
    .unwrap();
    refresh_all(pool, &format!("{schema}.hourly")).await;
    refresh_all(pool, &format!("{schema}.daily")).await;
}

/// Materializes `view` over everything.
async fn refresh_all(pool: &sqlx::PgPool, view: &str) {
    sqlx::query(&format!(
        "CALL refresh_continuous_aggregate('{view}', NULL, NULL)"
    ))
    .execute(pool)
    .await
    .unwrap();
}

async fn rows(pool: &sqlx::PgPool, view: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {view}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Adds a refresh policy to `view`, paused so that only the test runs it; its job id.
async fn refresh_policy(pool: &sqlx::PgPool, view: &str, start: &str, end: &str) -> i32 {
    let job: i32 = sqlx::query_scalar(&format!(
        "SELECT add_continuous_aggregate_policy('{view}', start_offset => {start},
                end_offset => {end}, schedule_interval => interval '1 hour')"
    ))
    .fetch_one(pool)
    .await
    .unwrap();
    scheduler::pause_and_wait(pool, job).await;
    job
}

/// `relation` managed with a retention of `days` days.
async fn want_retention(pool: &sqlx::PgPool, relation: &HypertableName, days: u32) {
    let mut overrides = PolicyOverride::default();
    overrides
        .set("retention_policy", &format!("{days} days"))
        .unwrap();
    // Nothing else changes: compression off, chunk interval as it is.
    overrides.set("compression_enabled", "false").unwrap();
    overrides.set("chunk_time_interval", "1 day").unwrap();
    save(
        pool,
        relation,
        &PolicyEdit {
            managed: Some(true),
            overrides,
        },
    )
    .await;
}

/// The retention job of `relation`, if there is one.
async fn retention_job(pool: &sqlx::PgPool, relation: &HypertableName) -> Option<i32> {
    sqlx::query_scalar(
        // Before 2.20 a job on an aggregate names its materialized hypertable.
        "SELECT j.job_id FROM timescaledb_information.jobs j
           LEFT JOIN timescaledb_information.continuous_aggregates c
                  ON (c.materialization_hypertable_schema, c.materialization_hypertable_name)
                   = (j.hypertable_schema, j.hypertable_name)
          WHERE j.proc_name = 'policy_retention'
            AND COALESCE(c.view_schema, j.hypertable_schema) = $1
            AND COALESCE(c.view_name, j.hypertable_name) = $2",
    )
    .bind(&relation.schema)
    .bind(&relation.table)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// The aggregates the plan's hazards say lose rows.
fn aggregates_at_risk(hazards: &[tsdb::policy::guard::Hazard]) -> Vec<String> {
    let mut names: Vec<String> = hazards
        .iter()
        .filter_map(|h| match &h.loss {
            Loss::Aggregate { aggregate, .. } => Some(aggregate.to_string()),
            Loss::Chunks { .. } => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Applies the plan: refused without the aggregate acceptance (nothing created), then
/// applied with it. Returns the aggregates the refusal named.
async fn refused_then_accepted(pool: &sqlx::PgPool, relation: &HypertableName) -> Vec<String> {
    let source = source();
    let intent = Intent::Reconcile {
        source: &source,
        only: Some(relation.clone()),
    };
    let (fingerprint, everything) = confirm_everything(pool, &intent).await;
    // The typed name alone does not accept an aggregate's loss.
    let named_only = Confirmations {
        typed_names: vec![relation.to_string()],
        accept_aggregate_loss: false,
    };
    let at_risk = match apply_with(pool, &intent, named_only, Some(fingerprint.clone())).await {
        Applied::NeedsConfirmation { hazards, .. } => aggregates_at_risk(&hazards),
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(
        retention_job(pool, relation).await.is_none(),
        "a refused apply created the retention"
    );
    match apply_with(pool, &intent, everything, Some(fingerprint)).await {
        Applied::Done { report, .. } => assert_eq!(report.failed(), 0, "{report:?}"),
        other => panic!("expected the confirmed apply to run, got {other:?}"),
    }
    at_risk
}

/// Runs `relation`'s retention job now.
async fn drop_now(pool: &sqlx::PgPool, relation: &HypertableName) {
    let job = retention_job(pool, relation)
        .await
        .expect("a retention job");
    scheduler::call_run_job(pool, job).await;
}

async fn null_start_offset(pool: &sqlx::PgPool) {
    fixture(pool, "g1").await;
    refresh_all(pool, "g1.hourly").await;
    let job = refresh_policy(pool, "g1.hourly", "NULL", "interval '1 hour'").await;
    let before = rows(pool, "g1.hourly").await;
    let readings = HypertableName::new("g1", "readings");
    want_retention(pool, &readings, 5).await;
    // Refused: the refresh was never the problem; its NULL start is.
    let source = source();
    let intent = Intent::Reconcile {
        source: &source,
        only: None,
    };
    match apply_with(pool, &intent, Confirmations::default(), None).await {
        Applied::NeedsConfirmation { hazards, .. } => {
            assert_eq!(aggregates_at_risk(&hazards), ["g1.hourly"]);
            let described = hazards
                .iter()
                .map(|h| h.describe())
                .collect::<Vec<_>>()
                .join("\n");
            assert!(described.contains("no start offset"), "{described}");
            assert!(
                described.contains("g1.readings: retention 5 days drops"),
                "{described}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Nothing was lost while refused: the aggregate's own refresh changes nothing.
    scheduler::call_run_job(pool, job).await;
    assert_eq!(rows(pool, "g1.hourly").await, before);
    // Accepted, the drop and the next refresh lose the aggregate's history.
    assert_eq!(refused_then_accepted(pool, &readings).await, ["g1.hourly"]);
    drop_now(pool, &readings).await;
    scheduler::call_run_job(pool, job).await;
    let after = rows(pool, "g1.hourly").await;
    assert!(
        after < before - 500,
        "{before} -> {after}: the warning was true"
    );
}

async fn start_offset_past_the_retention_and_one_within(pool: &sqlx::PgPool) {
    fixture(pool, "g2").await;
    refresh_all(pool, "g2.hourly").await;
    let wide = refresh_policy(pool, "g2.hourly", "interval '10 days'", "interval '1 hour'").await;
    let before = rows(pool, "g2.hourly").await;
    let readings = HypertableName::new("g2", "readings");
    want_retention(pool, &readings, 5).await;
    assert_eq!(refused_then_accepted(pool, &readings).await, ["g2.hourly"]);
    drop_now(pool, &readings).await;
    scheduler::call_run_job(pool, wide).await;
    let after = rows(pool, "g2.hourly").await;
    // Buckets between 10 days old and the day boundary before "5 days old" are gone
    // (retention drops whole one-day chunks); older ones were outside the window. How
    // many depends on the time of day: 4 days' worth when it is 23:xx UTC, 5 at midnight
    // (the bound was exclusive at 4 days and failed each day from 23:00 to 24:00 UTC).
    assert!(
        (before - 24 * 5 - 30..=before - 24 * 4).contains(&after),
        "{before} -> {after}"
    );

    // A window that stays within the retention: no aggregate warning, and no row lost.
    fixture(pool, "g3").await;
    refresh_all(pool, "g3.hourly").await;
    let narrow = refresh_policy(pool, "g3.hourly", "interval '3 days'", "interval '1 hour'").await;
    let before = rows(pool, "g3.hourly").await;
    let readings = HypertableName::new("g3", "readings");
    want_retention(pool, &readings, 5).await;
    let source = source();
    let intent = Intent::Reconcile {
        source: &source,
        only: Some(readings.clone()),
    };
    let (fingerprint, everything) = confirm_everything(pool, &intent).await;
    assert!(
        !everything.typed_names.is_empty(),
        "the drop itself is confirmed"
    );
    let applied = apply_with(
        pool,
        &intent,
        Confirmations {
            typed_names: vec![readings.to_string()],
            accept_aggregate_loss: false,
        },
        Some(fingerprint),
    )
    .await;
    assert!(matches!(applied, Applied::Done { .. }), "{applied:?}");
    drop_now(pool, &readings).await;
    scheduler::call_run_job(pool, narrow).await;
    assert_eq!(
        rows(pool, "g3.hourly").await,
        before,
        "no aggregate row lost"
    );
}

async fn never_refreshed(pool: &sqlx::PgPool) {
    // No refresh policy and never refreshed: every dropped chunk is lost to it.
    fixture(pool, "g4").await;
    let full: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT time_bucket(interval '1 hour', ts)) FROM g4.readings",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let readings = HypertableName::new("g4", "readings");
    want_retention(pool, &readings, 5).await;
    assert_eq!(refused_then_accepted(pool, &readings).await, ["g4.hourly"]);
    drop_now(pool, &readings).await;
    refresh_all(pool, "g4.hourly").await;
    assert!(rows(pool, "g4.hourly").await < full - 500);
}

async fn several_policies_and_a_paused_one(pool: &sqlx::PgPool, several: bool) {
    fixture(pool, "g5").await;
    refresh_all(pool, "g5.hourly").await;
    // A recent window, and (where TimescaleDB allows several) one for everything older.
    let recent = refresh_policy(pool, "g5.hourly", "interval '3 days'", "interval '1 hour'").await;
    let old = if several {
        Some(refresh_policy(pool, "g5.hourly", "NULL", "interval '3 days'").await)
    } else {
        None
    };
    let readings = HypertableName::new("g5", "readings");
    want_retention(pool, &readings, 5).await;
    let capabilities = tsdb::capabilities::Capabilities::probe(pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let live = tsdb::policy::live::read(&mut conn, &capabilities)
        .await
        .unwrap();
    drop(conn);
    let hourly = live.cagg(&HypertableName::new("g5", "hourly")).unwrap();
    assert_eq!(
        hourly.refresh.len(),
        if several { 2 } else { 1 },
        "{hourly:?}"
    );
    if let Some(old) = old {
        let before = rows(pool, "g5.hourly").await;
        assert_eq!(refused_then_accepted(pool, &readings).await, ["g5.hourly"]);
        drop_now(pool, &readings).await;
        scheduler::call_run_job(pool, recent).await;
        assert_eq!(
            rows(pool, "g5.hourly").await,
            before,
            "the recent window loses nothing"
        );
        scheduler::call_run_job(pool, old).await;
        assert!(rows(pool, "g5.hourly").await < before - 500);
    }

    // A paused refresh job counts: it can be resumed.
    fixture(pool, "g6").await;
    refresh_all(pool, "g6.hourly").await;
    let paused = refresh_policy(pool, "g6.hourly", "interval '20 days'", "interval '1 hour'").await;
    let readings = HypertableName::new("g6", "readings");
    want_retention(pool, &readings, 5).await;
    let source = source();
    let intent = Intent::Reconcile {
        source: &source,
        only: Some(readings.clone()),
    };
    match apply_with(pool, &intent, Confirmations::default(), None).await {
        Applied::NeedsConfirmation { hazards, .. } => {
            let described: Vec<String> = hazards.iter().map(|h| h.describe()).collect();
            assert!(
                described
                    .iter()
                    .any(|d| d.contains(&format!("job {paused}, paused"))),
                "{described:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn aggregates_on_aggregates_and_their_own_retention(pool: &sqlx::PgPool) {
    daily_on_hourly(pool, "g7").await;
    let hourly_job = refresh_policy(pool, "g7.hourly", "NULL", "interval '1 hour'").await;
    let daily_job =
        refresh_policy(pool, "g7.daily", "interval '60 days'", "interval '1 day'").await;
    let daily_before = rows(pool, "g7.daily").await;
    let capabilities = tsdb::capabilities::Capabilities::probe(pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let live = tsdb::policy::live::read(&mut conn, &capabilities)
        .await
        .unwrap();
    drop(conn);
    let daily = live.cagg(&HypertableName::new("g7", "daily")).unwrap();
    assert_eq!(
        daily.source,
        HypertableName::new("g7", "hourly"),
        "named by its view"
    );
    assert!(daily.source_is_aggregate);
    // The raw table's retention reaches daily through hourly.
    let readings = HypertableName::new("g7", "readings");
    want_retention(pool, &readings, 5).await;
    assert_eq!(
        refused_then_accepted(pool, &readings).await,
        ["g7.daily", "g7.hourly"]
    );
    drop_now(pool, &readings).await;
    scheduler::call_run_job(pool, hourly_job).await;
    scheduler::call_run_job(pool, daily_job).await;
    assert!(rows(pool, "g7.daily").await < daily_before - 10);

    // An aggregate's own retention: dropping hourly's old rows empties daily's range.
    daily_on_hourly(pool, "g8").await;
    let daily_job = refresh_policy(pool, "g8.daily", "NULL", "interval '1 day'").await;
    let daily_before = rows(pool, "g8.daily").await;
    let hourly = HypertableName::new("g8", "hourly");
    let mut overrides = PolicyOverride::default();
    overrides.set("retention_policy", "5 days").unwrap();
    save(
        pool,
        &hourly,
        &PolicyEdit {
            managed: Some(true),
            overrides,
        },
    )
    .await;
    assert_eq!(refused_then_accepted(pool, &hourly).await, ["g8.daily"]);
    drop_now(pool, &hourly).await;
    scheduler::call_run_job(pool, daily_job).await;
    assert!(rows(pool, "g8.daily").await < daily_before - 10);
}

async fn widening_a_refresh_window(pool: &sqlx::PgPool) {
    // The source keeps 5 days; hourly refreshes 3 days back. Its own policy page widens
    // the window to 20 days: a refresh then rewrites 5 to 20 days back from nothing.
    fixture(pool, "g9").await;
    refresh_all(pool, "g9.hourly").await;
    let readings = HypertableName::new("g9", "readings");
    sqlx::query("SELECT add_retention_policy('g9.readings', drop_after => interval '5 days')")
        .execute(pool)
        .await
        .unwrap();
    drop_now(pool, &readings).await;
    let job = refresh_policy(pool, "g9.hourly", "interval '3 days'", "interval '1 hour'").await;
    let before = rows(pool, "g9.hourly").await;
    let hourly = HypertableName::new("g9", "hourly");
    let mut overrides = PolicyOverride::default();
    overrides
        .set("refresh", "20 days to 1 hour every 1 hour")
        .unwrap();
    save(
        pool,
        &hourly,
        &PolicyEdit {
            managed: Some(true),
            overrides,
        },
    )
    .await;
    assert_eq!(refused_then_accepted(pool, &hourly).await, ["g9.hourly"]);
    let config: String = sqlx::query_scalar(
        "SELECT config ->> 'start_offset' FROM timescaledb_information.jobs WHERE job_id = $1",
    )
    .bind(job)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(config, "20 days", "the refresh policy changed in place");
    scheduler::call_run_job(pool, job).await;
    assert!(rows(pool, "g9.hourly").await < before - 200);
}

async fn every_case(pool: &sqlx::PgPool) {
    tsdb::migrations::run(pool).await.unwrap();
    null_start_offset(pool).await;
    start_offset_past_the_retention_and_one_within(pool).await;
    never_refreshed(pool).await;
    let capabilities = tsdb::capabilities::Capabilities::probe(pool).await.unwrap();
    several_policies_and_a_paused_one(pool, capabilities.allows_several_refresh_policies()).await;
    aggregates_on_aggregates_and_their_own_retention(pool).await;
    widening_a_refresh_window(pool).await;
}

#[tokio::test]
async fn aggregate_losses_are_refused_until_accepted_on_devdb() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    every_case(&pool).await;
}

#[tokio::test]
async fn aggregate_losses_are_refused_until_accepted_on_the_oldest_release() {
    let Some(tier) = oldest_tier() else { return };
    let database = tier.database("aggregate_guard_oldest").await;
    let pool = database.pool(4).await;
    every_case(&pool).await;
    pool.close().await;
}

#[tokio::test]
async fn aggregate_losses_are_refused_until_accepted_on_the_native_tier() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("aggregate_guard").await;
        let pool = database.pool(4).await;
        every_case(&pool).await;
        pool.close().await;
    }
}
