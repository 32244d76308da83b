//! Policy automation against a real TimescaleDB, on devdb (2.23-dev) and on the native
//! tier (2.28.3): plan on a fresh database, apply, plan again is empty; each policy kind
//! added, changed and removed; an edit and its revert; integer-time hypertables; quoted
//! mixed-case names; and (native) a step blocked by another session's lock.

use std::collections::BTreeMap;
use std::str::FromStr;
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::demo::DemoVolume;
use tsdb::interval::PolicyInterval;
use tsdb::policy::apply::{apply, StepOutcome, Trigger};
use tsdb::policy::desired::{parse_patterns, PolicySource};
use tsdb::policy::plan::{Plan, StepKind};
use tsdb::policy::store::{self, PolicyEdit};
use tsdb::policy::{plan_now, HypertableName, Policy, PolicyOverride};
use tsdb::testing::{connect, native_tier, DevDb};

fn source() -> PolicySource {
    PolicySource {
        defaults: Policy::seed(),
        tables: BTreeMap::new(),
        managed_patterns: parse_patterns("factory_telemetry.*").unwrap(),
        builtin: Default::default(),
    }
}

async fn setup(pool: &sqlx::PgPool) {
    tsdb::migrations::run(pool).await.unwrap();
    let volume = DemoVolume {
        days: 10,
        equipment: 2,
        sample_seconds: 3600,
    };
    tsdb::demo::load(pool, volume, PolicyInterval::from_str("7 days").unwrap())
        .await
        .unwrap();
}

async fn plan(pool: &sqlx::PgPool, source: &PolicySource) -> Plan {
    let capabilities = Capabilities::probe(pool).await.unwrap();
    plan_now(pool, &capabilities, source).await.unwrap().1
}

/// Applies `plan` and insists every step applied.
async fn apply_all(pool: &sqlx::PgPool, plan: &Plan) {
    let report = apply(pool, plan, &Actor::System, None, Trigger::Console)
        .await
        .unwrap()
        .expect("no other instance holds the lock");
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome != StepOutcome::Applied)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(report.results.len(), plan.steps.len());
}

async fn job_setting(pool: &sqlx::PgPool, proc: &str, table: &str, key: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT config ->> $3 FROM timescaledb_information.jobs
          WHERE proc_name = $1 AND hypertable_name = $2",
    )
    .bind(proc)
    .bind(table)
    .bind(key)
    .fetch_optional(pool)
    .await
    .unwrap()
    .flatten()
}

async fn scenario(pool: &sqlx::PgPool) {
    setup(pool).await;
    let source = source();

    // Fresh: the demo tables get compression and both policies; nothing else is touched.
    sqlx::raw_sql(
        "CREATE TABLE public.unmanaged (ts timestamptz NOT NULL, v float8);
         SELECT create_hypertable('public.unmanaged', by_range('ts'));",
    )
    .execute(pool)
    .await
    .unwrap();
    let first = plan(pool, &source).await;
    assert!(!first.in_sync());
    let unmanaged = HypertableName::new("public", "unmanaged");
    assert_eq!(first.steps_for(&unmanaged).count(), 0);
    let metric = HypertableName::new("factory_telemetry", "metric_hist");
    let kinds: Vec<StepKind> = first.steps_for(&metric).map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [StepKind::AddCompressionPolicy, StepKind::AddRetentionPolicy],
        "{:#?}",
        first.steps
    );
    apply_all(pool, &first).await;
    let again = plan(pool, &source).await;
    assert!(again.in_sync(), "{:#?}", again.steps);
    assert_eq!(
        job_setting(pool, "policy_retention", "metric_hist", "drop_after")
            .await
            .as_deref(),
        Some("90 days")
    );
    assert!(
        job_setting(pool, "policy_retention", "unmanaged", "drop_after")
            .await
            .is_none()
    );

    // The retention dry-run lists exactly what show_chunks(older_than => …) does, and the
    // aggregate whose refresh reaches past a retention is named.
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let live = tsdb::policy::live::read(pool, &capabilities).await.unwrap();
    let five_days = "5 days".parse().unwrap();
    let dry = tsdb::policy::dry_run::retention(pool, &live, &metric, five_days)
        .await
        .unwrap();
    let expected: Vec<String> = sqlx::query_scalar(
        "SELECT c::text FROM show_chunks('factory_telemetry.metric_hist', older_than => interval '5 days') c",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut listed: Vec<String> = dry.chunks.iter().map(|c| c.chunk.clone()).collect();
    let mut expected_sorted = expected.clone();
    listed.sort();
    expected_sorted.sort();
    assert_eq!(listed, expected_sorted);
    assert!(
        !listed.is_empty() && dry.total_bytes > 0 && dry.total_rows > 0,
        "{dry:?}"
    );
    assert!(dry.cagg_risks.is_empty(), "{:?}", dry.cagg_risks);
    let two_days = "2 days".parse().unwrap();
    let risky = tsdb::policy::dry_run::retention(pool, &live, &metric, two_days)
        .await
        .unwrap();
    assert_eq!(risky.cagg_risks.len(), 1, "{:?}", risky.cagg_risks);
    assert_eq!(
        risky.cagg_risks[0].cagg,
        "factory_telemetry.metric_hist_hourly"
    );
    assert!(risky.cagg_risks[0].reason.contains("start_offset"));
    let whole = tsdb::policy::dry_run::dry_run(pool, &live, &metric, &source.defaults)
        .await
        .unwrap();
    let sizing = &whole.chunk_interval;
    assert!(
        sizing.guidance_bytes > 0 && sizing.expected_chunk_bytes.unwrap_or(0) > 0,
        "{sizing:?}"
    );
    assert_eq!(sizing.chunks_per_month, Some(30.0));
    let compression = whole.compression.unwrap();
    assert!(compression.ratio.unwrap_or(0.0) > 1.0, "{compression:?}");

    // An admin's edit changes a policy in place; reverting it restores the live state.
    let mut overrides = PolicyOverride::default();
    overrides.set("retention_policy", "30 days").unwrap();
    overrides.set("compression_after", "3 days").unwrap();
    overrides.set("chunk_time_interval", "12 hours").unwrap();
    let edit = PolicyEdit {
        managed: None,
        overrides,
    };
    let audit_id = store::save(pool, &Actor::System, None, &metric, &edit, None)
        .await
        .unwrap();
    let changed = plan(pool, &source).await;
    let kinds: Vec<StepKind> = changed.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StepKind::ChunkInterval,
            StepKind::ChangeCompressionPolicy,
            StepKind::ChangeRetentionPolicy
        ]
    );
    apply_all(pool, &changed).await;
    assert_eq!(
        job_setting(pool, "policy_retention", "metric_hist", "drop_after")
            .await
            .as_deref(),
        Some("30 days")
    );
    assert_eq!(
        job_setting(pool, "policy_compression", "metric_hist", "compress_after")
            .await
            .as_deref(),
        Some("3 days")
    );
    assert!(plan(pool, &source).await.in_sync());
    let (name, before) = store::before_of(pool, audit_id).await.unwrap();
    assert_eq!(name, metric);
    store::save(pool, &Actor::System, None, &name, &before, Some(audit_id))
        .await
        .unwrap();
    apply_all(pool, &plan(pool, &source).await).await;
    assert_eq!(
        job_setting(pool, "policy_retention", "metric_hist", "drop_after")
            .await
            .as_deref(),
        Some("90 days")
    );
    let interval: String = sqlx::query_scalar(
        "SELECT time_interval::text FROM timescaledb_information.dimensions
          WHERE hypertable_name = 'metric_hist'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(interval, "1 day");
    let reverted: String =
        sqlx::query_scalar("SELECT detail FROM console.audit_log WHERE action = 'policy.revert'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(reverted, format!("revert of audit entry {audit_id}"));

    // Retention removed ("none") and compression turned off where nothing is compressed.
    // On the native tier the scheduler may have run the compression policy applied above
    // by now: pause it and decompress first, as an admin would before turning it off.
    let compression_job: i32 = sqlx::query_scalar(
        "SELECT job_id FROM timescaledb_information.jobs
          WHERE proc_name = 'policy_compression' AND hypertable_schema = 'factory_telemetry'
            AND hypertable_name = 'production_events'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    tsdb::testing::scheduler::pause_and_wait(pool, compression_job).await;
    sqlx::raw_sql(
        "SELECT decompress_chunk(c, true) FROM show_chunks('factory_telemetry.production_events') c",
    )
    .execute(pool)
    .await
    .unwrap();
    let events = HypertableName::new("factory_telemetry", "production_events");
    let mut overrides = PolicyOverride::default();
    overrides.set("retention_policy", "none").unwrap();
    overrides.set("compression_enabled", "false").unwrap();
    store::save(
        pool,
        &Actor::System,
        None,
        &events,
        &PolicyEdit {
            managed: None,
            overrides,
        },
        None,
    )
    .await
    .unwrap();
    let removing = plan(pool, &source).await;
    let kinds: Vec<StepKind> = removing.steps_for(&events).map(|s| s.kind).collect();
    assert!(
        kinds.contains(&StepKind::RemoveRetentionPolicy)
            && kinds.contains(&StepKind::RemoveCompressionPolicy),
        "{kinds:?}"
    );
    apply_all(pool, &removing).await;
    assert!(plan(pool, &source).await.in_sync());
    assert!(
        job_setting(pool, "policy_retention", "production_events", "drop_after")
            .await
            .is_none()
    );

    // An integer-time hypertable with integer policies, and a quoted mixed-case name.
    sqlx::raw_sql(
        r#"CREATE SCHEMA "Plant A";
           CREATE TABLE "Plant A"."Counter ""Log""" (tick bigint NOT NULL, "Value" int);
           SELECT create_hypertable('"Plant A"."Counter ""Log"""', by_range('tick', 100000));
           CREATE FUNCTION "Plant A".now_tick() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 10000000::bigint';
           SELECT set_integer_now_func('"Plant A"."Counter ""Log"""', '"Plant A".now_tick');
           INSERT INTO "Plant A"."Counter ""Log""" SELECT g, g % 7 FROM generate_series(1, 1000000, 997) g;"#,
    )
    .execute(pool)
    .await
    .unwrap();
    let counter = HypertableName::new("Plant A", "Counter \"Log\"");
    let integer_plan = plan(pool, &source).await;
    assert!(
        integer_plan
            .tables
            .iter()
            .any(|t| t.name == counter && !t.managed.is_managed()),
        "not managed until someone says so"
    );
    let mut overrides = PolicyOverride::default();
    overrides.set("compression_after", "300000").unwrap();
    overrides.set("retention_policy", "9000000").unwrap();
    overrides.set("chunk_time_interval", "200000").unwrap();
    overrides.set("segment_by", "Value").unwrap();
    store::save(
        pool,
        &Actor::System,
        None,
        &counter,
        &PolicyEdit {
            managed: Some(true),
            overrides,
        },
        None,
    )
    .await
    .unwrap();
    let integer_plan = plan(pool, &source).await;
    let table = integer_plan
        .tables
        .iter()
        .find(|t| t.name == counter)
        .unwrap();
    assert!(table.refused.is_empty(), "{:?}", table.refused);
    apply_all(pool, &integer_plan).await;
    let after: Option<String> = sqlx::query_scalar(
        "SELECT config ->> 'compress_after' FROM timescaledb_information.jobs
          WHERE proc_name = 'policy_compression' AND hypertable_schema = 'Plant A'",
    )
    .fetch_optional(pool)
    .await
    .unwrap()
    .flatten();
    assert_eq!(after.as_deref(), Some("300000"));
    let settled = plan(pool, &source).await;
    assert!(settled.in_sync(), "{:#?}", settled.steps);
}

#[tokio::test]
async fn plan_apply_and_revert_on_devdb() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    scenario(&pool).await;
}

#[tokio::test]
async fn plan_apply_and_revert_on_the_native_tier() {
    let Some(tier) = native_tier() else { return };
    let database = tier.database("policies").await;
    let pool = database.pool(4).await;
    scenario(&pool).await;
    pool.close().await;
}

#[tokio::test]
async fn a_locked_table_fails_its_step_quickly_and_the_others_apply() {
    let Some(tier) = native_tier() else { return };
    let database = tier.database("policy_lock").await;
    let pool = database.pool(4).await;
    setup(&pool).await;
    // New compression settings and chunk interval for one table: DDL that needs its lock.
    let metric = HypertableName::new("factory_telemetry", "metric_hist");
    let mut overrides = PolicyOverride::default();
    overrides.set("segment_by", "equipment_id").unwrap();
    overrides.set("chunk_time_interval", "12 hours").unwrap();
    store::save(
        &pool,
        &Actor::System,
        None,
        &metric,
        &PolicyEdit {
            managed: None,
            overrides,
        },
        None,
    )
    .await
    .unwrap();
    // The plant holds a lock on that table (a long transaction, a migration).
    let mut plant = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE factory_telemetry.metric_hist IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *plant)
        .await
        .unwrap();
    let first = plan(&pool, &source()).await;
    let report = apply(&pool, &first, &Actor::System, None, Trigger::Startup)
        .await
        .unwrap()
        .unwrap();
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome != StepOutcome::Applied)
        .collect();
    assert!(
        failed
            .iter()
            .any(|r| r.summary == "change compression settings"),
        "{:#?}",
        report.results
    );
    for result in &failed {
        assert_eq!(result.table, "factory_telemetry.metric_hist");
        match &result.outcome {
            StepOutcome::Failed { error } => assert!(error.contains("lock timeout"), "{error}"),
            other => panic!("{}: {other:?}", result.summary),
        }
    }
    // Every other table's steps applied (and this table's that need no lock).
    assert!(report.results.len() > failed.len() + 2);
    // The blocked steps gave up at their lock time-out: the plant's transaction is still
    // open here, and waiting for it would never have ended.
    let last = tsdb::policy::apply::last_run(&pool).await.unwrap().unwrap();
    assert_eq!(last.failed as usize, failed.len());
    assert!(
        last.failures[0].contains("lock timeout"),
        "{:?}",
        last.failures
    );
    // Once the plant lets go, the next apply catches up.
    plant.rollback().await.unwrap();
    apply_all(&pool, &plan(&pool, &source()).await).await;
    assert!(plan(&pool, &source()).await.in_sync());
    pool.close().await;
}
