//! Policy automation against a real TimescaleDB, on devdb (2.23-dev) and on the native
//! tier: plan on a fresh database, apply, plan again is empty; each policy kind added,
//! changed and removed; taking a table under management changes nothing; an edit and its
//! revert leave live exactly as before (read back through `timescaledb_information`);
//! dotted and quoted names never mix; a stale plan and a second apply at once run
//! nothing; the start-up apply holds what would lose data; integer-time hypertables;
//! and (native) a step blocked by another session's lock.

use std::collections::BTreeMap;
use std::str::FromStr;
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::demo::DemoVolume;
use tsdb::interval::PolicyInterval;
use tsdb::policy::apply::{self, Applied, Intent, Request, Restore, StepOutcome, Trigger};
use tsdb::policy::desired::{parse_patterns, ObjectKind, PolicySource};
use tsdb::policy::guard::Confirmations;
use tsdb::policy::plan::{Plan, StepKind};
use tsdb::policy::store::{self, PolicyEdit};
use tsdb::policy::target::JobAge;
use tsdb::policy::{plan_now, HypertableName, Policy, PolicyOverride};
use tsdb::testing::policies::{apply_confirmed, apply_with, confirm_everything, save};
use tsdb::testing::{connect, native_tiers, oldest_tier, DevDb};

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

/// Applies the current plan (hazards confirmed) and insists every step applied.
async fn apply_all(pool: &sqlx::PgPool, source: &PolicySource) {
    let report = apply_confirmed(pool, source).await;
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome != StepOutcome::Applied)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
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

/// A compression setting: column, segment-by index, order-by index, ascending.
type SettingRow = (String, Option<i16>, Option<i16>, Option<bool>);

/// A hypertable's lifecycle as TimescaleDB's public views report it, job ids left out
/// (a revert may re-create a job): compression, its settings, the chunk interval, and
/// each policy job's kind, age settings and schedule.
async fn lifecycle(pool: &sqlx::PgPool, name: &HypertableName) -> String {
    let (compression, interval): (bool, Option<String>) = sqlx::query_as(
        "SELECT h.compression_enabled,
                COALESCE(d.time_interval::text, d.integer_interval::text)
           FROM timescaledb_information.hypertables h
           JOIN timescaledb_information.dimensions d
             ON d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name
            AND d.dimension_number = 1
          WHERE h.hypertable_schema = $1 AND h.hypertable_name = $2",
    )
    .bind(&name.schema)
    .bind(&name.table)
    .fetch_one(pool)
    .await
    .unwrap();
    let settings: Vec<SettingRow> = sqlx::query_as(
        "SELECT attname::text, segmentby_column_index, orderby_column_index, orderby_asc
           FROM timescaledb_information.compression_settings
          WHERE hypertable_schema = $1 AND hypertable_name = $2
          ORDER BY 1",
    )
    .bind(&name.schema)
    .bind(&name.table)
    .fetch_all(pool)
    .await
    .unwrap();
    let jobs: Vec<(String, String, Option<String>, bool)> = sqlx::query_as(
        "SELECT proc_name::text, schedule_interval::text,
                (config - 'hypertable_id' - 'mat_hypertable_id')::text, scheduled
           FROM timescaledb_information.jobs
          WHERE hypertable_schema = $1 AND hypertable_name = $2
          ORDER BY 1, 3",
    )
    .bind(&name.schema)
    .bind(&name.table)
    .fetch_all(pool)
    .await
    .unwrap();
    format!("compression {compression}, chunk interval {interval:?}, settings {settings:?}, jobs {jobs:?}")
}

/// Reverts audit entry `audit_id` with every hazard confirmed.
async fn revert(pool: &sqlx::PgPool, source: &PolicySource, audit_id: i64) -> Applied {
    let restore = restore_of(pool, source, audit_id).await;
    let intent = Intent::Restore(Box::new(restore));
    let (fingerprint, confirmations) = confirm_everything(pool, &intent).await;
    apply_with(pool, &intent, confirmations, Some(fingerprint)).await
}

async fn restore_of(pool: &sqlx::PgPool, source: &PolicySource, audit_id: i64) -> Restore {
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let recorded = store::recorded(&mut conn, audit_id).await.unwrap();
    let live = tsdb::policy::live::read(&mut conn, &capabilities)
        .await
        .unwrap();
    let name = recorded.name.resolve(&live).unwrap();
    Restore {
        kind: if live.cagg(&name).is_some() {
            ObjectKind::Aggregate
        } else {
            ObjectKind::Hypertable
        },
        name,
        edit: recorded.edit_before,
        live_before: recorded.live_before,
        revert_of: audit_id,
        source: source.clone(),
    }
}

fn edit(managed: Option<bool>, keys: &[(&str, &str)]) -> PolicyEdit {
    let mut overrides = PolicyOverride::default();
    for (key, value) in keys {
        overrides.set(key, value).unwrap();
    }
    PolicyEdit { managed, overrides }
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
    // The retention's first run waits half the compression job's schedule (capped at an
    // hour): the two on one table at the same instant deadlock.
    let retention_step = first
        .steps_for(&metric)
        .find(|s| s.kind == StepKind::AddRetentionPolicy)
        .unwrap();
    assert!(
        retention_step
            .statement
            .display()
            .contains("initial_start => now() + '60 minutes'::interval"),
        "{}",
        retention_step.statement.display()
    );
    apply_all(pool, &source).await;
    let again = plan(pool, &source).await;
    assert!(again.in_sync(), "{:#?}", again.steps);
    assert_eq!(
        job_setting(pool, "policy_retention", "metric_hist", "drop_after")
            .await
            .as_deref(),
        Some("90 days")
    );
    let next_starts: Vec<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT proc_name::text, initial_start FROM timescaledb_information.jobs
          WHERE hypertable_name = 'metric_hist' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(next_starts.len(), 2, "{next_starts:?}");
    assert!(
        next_starts[1].1 - next_starts[0].1 >= chrono::Duration::minutes(59),
        "{next_starts:?}"
    );
    assert!(
        job_setting(pool, "policy_retention", "unmanaged", "drop_after")
            .await
            .is_none()
    );

    // The retention dry-run lists exactly what show_chunks(older_than => …) does, says
    // which the current retention drops anyway, and names the aggregate whose refresh
    // reaches past a shorter retention.
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let live = tsdb::policy::live::read(&mut conn, &capabilities)
        .await
        .unwrap();
    let five_days = JobAge::After("5 days".parse().unwrap());
    let dry = tsdb::policy::dry_run::retention(&mut conn, &capabilities, &live, &metric, five_days)
        .await
        .unwrap();
    drop(conn);
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
    assert_eq!(dry.new_chunks, listed.len(), "90 days drops none of them");
    assert_eq!(dry.current.as_deref(), Some("90 days"));
    assert!(dry.hazards.is_empty(), "{:?}", dry.hazards);
    let mut conn = pool.acquire().await.unwrap();
    let two_days = JobAge::After("2 days".parse().unwrap());
    let risky =
        tsdb::policy::dry_run::retention(&mut conn, &capabilities, &live, &metric, two_days)
            .await
            .unwrap();
    let whole =
        tsdb::policy::dry_run::dry_run(&mut conn, &capabilities, &live, &metric, &source.defaults)
            .await
            .unwrap();
    drop(conn);
    assert_eq!(risky.hazards.len(), 1, "{:?}", risky.hazards);
    let risk = risky.hazards[0].describe();
    assert!(
        risk.starts_with("continuous aggregate factory_telemetry.metric_hist_hourly loses data"),
        "{risk}"
    );
    assert!(risk.contains("start_offset"), "{risk}");
    let sizing = &whole.chunk_interval;
    assert!(
        sizing.guidance_bytes > 0 && sizing.expected_chunk_bytes.unwrap_or(0) > 0,
        "{sizing:?}"
    );
    assert_eq!(sizing.chunks_per_month, Some(30.0));
    let compression = whole.compression.unwrap();
    assert!(compression.ratio.unwrap_or(0.0) > 1.0, "{compression:?}");
    // The current 90-day retention drops nothing of the demo's 10 days: the full
    // policy's dry-run says so.
    assert_eq!(whole.retention.unwrap().chunks.len(), 0);

    // An admin's edit changes the policy in place; reverting it restores live exactly.
    let before = lifecycle(pool, &metric).await;
    let audit_id = save(
        pool,
        &metric,
        &edit(
            None,
            &[
                ("retention_policy", "30 days"),
                ("compression_after", "3 days"),
                ("chunk_time_interval", "12 hours"),
                ("retention_schedule", "1 day"),
            ],
        ),
    )
    .await;
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
    apply_all(pool, &source).await;
    assert_eq!(
        job_setting(pool, "policy_retention", "metric_hist", "drop_after")
            .await
            .as_deref(),
        Some("30 days")
    );
    let schedules: Vec<(String, String)> = sqlx::query_as(
        "SELECT proc_name::text, schedule_interval::text FROM timescaledb_information.jobs
          WHERE hypertable_name = 'metric_hist' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        schedules,
        [
            ("policy_compression".to_string(), "12:00:00".to_string()),
            ("policy_retention".to_string(), "1 day".to_string())
        ],
        "each job keeps its own schedule"
    );
    assert!(plan(pool, &source).await.in_sync());
    match revert(pool, &source, audit_id).await {
        Applied::Done { report, .. } => assert_eq!(report.failed(), 0, "{report:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        lifecycle(pool, &metric).await,
        before,
        "live is as before the edit"
    );
    assert!(
        plan(pool, &source).await.in_sync(),
        "the setting is restored too"
    );
    let reverted: String =
        sqlx::query_scalar("SELECT detail FROM console.audit_log WHERE action = 'policy.revert'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(reverted, format!("revert of audit entry {audit_id}"));
    // Once reverted, an entry says so, and a second revert runs nothing.
    let mut conn = pool.acquire().await.unwrap();
    assert!(store::recorded(&mut conn, audit_id)
        .await
        .unwrap()
        .reverted_by
        .is_some());
    drop(conn);
    assert!(matches!(
        revert(pool, &source, audit_id).await,
        Applied::AlreadyReverted { .. }
    ));

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
    save(
        pool,
        &events,
        &edit(
            None,
            &[
                ("retention_policy", "none"),
                ("compression_enabled", "false"),
            ],
        ),
    )
    .await;
    let removing = plan(pool, &source).await;
    let kinds: Vec<StepKind> = removing.steps_for(&events).map(|s| s.kind).collect();
    assert!(
        kinds.contains(&StepKind::RemoveRetentionPolicy)
            && kinds.contains(&StepKind::RemoveCompressionPolicy),
        "{kinds:?}"
    );
    apply_all(pool, &source).await;
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
    let unmanaged_counter = integer_plan
        .tables
        .iter()
        .find(|t| t.name == counter)
        .unwrap();
    assert!(
        !unmanaged_counter.managed.is_managed(),
        "not managed until someone says so"
    );
    // Not managed, its desired column shows what managing it would keep: its integers.
    assert_eq!(
        unmanaged_counter.desired.chunk_time_interval.to_string(),
        "100000"
    );
    save(
        pool,
        &counter,
        &edit(
            Some(true),
            &[
                ("compression_after", "300000"),
                ("retention_policy", "9000000"),
                ("chunk_time_interval", "200000"),
                ("segment_by", "Value"),
                ("compression_enabled", "true"),
            ],
        ),
    )
    .await;
    let integer_plan = plan(pool, &source).await;
    let table = integer_plan
        .tables
        .iter()
        .find(|t| t.name == counter)
        .unwrap();
    assert!(table.refused.is_empty(), "{:?}", table.refused);
    apply_all(pool, &source).await;
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

/// A user-shaped table: 7-day chunks, a compression policy after 5 days every day, a
/// retention of 60 days every 12 hours, segment-by `line`.
async fn user_table(pool: &sqlx::PgPool, schema: &str, table: &str) -> HypertableName {
    let name = HypertableName::new(schema, table);
    let quoted = name.quoted();
    let literal = quoted.replace('\'', "''");
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema_q};
         CREATE TABLE {quoted} (ts timestamptz NOT NULL, line int NOT NULL, v float8);
         SELECT create_hypertable('{literal}', by_range('ts', interval '7 days'));
         INSERT INTO {quoted} SELECT g, (extract(epoch FROM g)::bigint % 3)::int, 1
           FROM generate_series(now() - interval '40 days', now(), interval '2 hours') g;
         ALTER TABLE {quoted} SET (timescaledb.compress, timescaledb.compress_segmentby = 'line');
         SELECT add_compression_policy('{literal}', compress_after => interval '5 days', schedule_interval => interval '1 day');
         SELECT add_retention_policy('{literal}', drop_after => interval '60 days', schedule_interval => interval '12 hours');",
        schema_q = tsdb::ident::quote_ident(schema),
    ))
    .execute(pool)
    .await
    .unwrap();
    name
}

async fn adoption_and_round_trips(pool: &sqlx::PgPool) {
    tsdb::migrations::run(pool).await.unwrap();
    let source = source();
    let sensors = user_table(pool, "plant", "sensor_readings").await;
    let untouched = lifecycle(pool, &sensors).await;
    // Taking it under management keeps every live value: the plan is empty, and the
    // audit entry lists what was kept.
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let live = tsdb::policy::live::read(&mut conn, &capabilities)
        .await
        .unwrap();
    drop(conn);
    let kept = tsdb::policy::desired::adopt(live.table(&sensors).unwrap(), None);
    assert!(kept.notes.is_empty(), "{:?}", kept.notes);
    let mut taken = kept.overrides.clone();
    taken.schedule_interval = None;
    let take = save(
        pool,
        &sensors,
        &PolicyEdit {
            managed: Some(true),
            overrides: taken,
        },
    )
    .await;
    let after_take = plan(pool, &source).await;
    assert_eq!(
        after_take.steps_for(&sensors).count(),
        0,
        "{:#?}",
        after_take.steps
    );
    assert_eq!(lifecycle(pool, &sensors).await, untouched);

    // Each kind of change, applied and reverted, leaves live exactly as before it.
    let changes: [&[(&str, &str)]; 6] = [
        &[("retention_policy", "90 days")],
        &[("compression_after", "10 days")],
        &[("chunk_time_interval", "1 day")],
        &[
            ("compression_schedule", "6 hours"),
            ("retention_schedule", "2 days"),
        ],
        &[("order_by", "ts")],
        &[("retention_policy", "none"), ("compression_after", "none")],
    ];
    for change in changes {
        let before = lifecycle(pool, &sensors).await;
        let mut current = store::current(&mut *pool.acquire().await.unwrap(), &sensors)
            .await
            .unwrap();
        for (key, value) in change {
            current.overrides.set(key, value).unwrap();
        }
        let id = save(pool, &sensors, &current).await;
        // 2.13 refuses new compression settings while chunks are compressed: the plan
        // says so and changes nothing; the revert puts the record back.
        let refused: Vec<String> = plan(pool, &source)
            .await
            .tables
            .iter()
            .filter(|t| t.name == sensors)
            .flat_map(|t| t.refused.clone())
            .collect();
        if !refused.is_empty() {
            assert!(
                capabilities.refuses_compression_settings_with_compressed_chunks()
                    && refused.iter().all(|r| r.contains("2.13")),
                "{change:?}: {refused:?}"
            );
            assert!(matches!(
                revert(pool, &source, id).await,
                Applied::Done { .. }
            ));
            assert_eq!(lifecycle(pool, &sensors).await, before, "{change:?}");
            continue;
        }
        apply_all(pool, &source).await;
        assert_ne!(
            lifecycle(pool, &sensors).await,
            before,
            "{change:?} changed nothing"
        );
        match revert(pool, &source, id).await {
            Applied::Done { report, .. } => assert_eq!(report.failed(), 0, "{report:?}"),
            other => panic!("{change:?}: {other:?}"),
        }
        assert_eq!(lifecycle(pool, &sensors).await, before, "{change:?}");
        assert!(plan(pool, &source)
            .await
            .steps_for(&sensors)
            .next()
            .is_none());
    }

    // Change something, then revert the take itself: the table is unmanaged again and
    // what the console added or changed is gone.
    let id = save(
        pool,
        &sensors,
        &edit(
            Some(true),
            &[
                ("retention_policy", "20 days"),
                ("chunk_time_interval", "2 days"),
            ],
        ),
    )
    .await;
    apply_all(pool, &source).await;
    let _ = id;
    match revert(pool, &source, take).await {
        Applied::Done { report, .. } => assert_eq!(report.failed(), 0, "{report:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(lifecycle(pool, &sensors).await, untouched);
    let after = plan(pool, &source).await;
    let entry = after.tables.iter().find(|t| t.name == sensors).unwrap();
    assert!(!entry.managed.is_managed());

    // A revert that puts back a retention dropping chunks needs the name typed.
    let widen = save(
        pool,
        &sensors,
        &edit(Some(true), &[("retention_policy", "none")]),
    )
    .await;
    apply_all(pool, &source).await;
    sqlx::query("INSERT INTO plant.sensor_readings SELECT g, 1, 1 FROM generate_series(now() - interval '100 days', now() - interval '70 days', interval '1 day') g")
        .execute(pool)
        .await
        .unwrap();
    let intent = Intent::Restore(Box::new(restore_of(pool, &source, widen).await));
    match apply_with(pool, &intent, Confirmations::default(), None).await {
        Applied::NeedsConfirmation { hazards, .. } => {
            assert!(
                hazards[0].describe().contains("retention 60 days drops"),
                "{:?}",
                hazards
            );
        }
        other => panic!("a revert that drops data ran unconfirmed: {other:?}"),
    }
    assert!(
        job_setting(pool, "policy_retention", "sensor_readings", "drop_after")
            .await
            .is_none()
    );
}

async fn dotted_names(pool: &sqlx::PgPool) {
    tsdb::migrations::run(pool).await.unwrap();
    let source = source();
    let dotted_schema = user_table(pool, "zz_probe.a", "b").await;
    let dotted_table = user_table(pool, "zz_probe", "a.b").await;
    assert_ne!(dotted_schema.to_string(), dotted_table.to_string());
    let other_before = lifecycle(pool, &dotted_table).await;
    let before = lifecycle(pool, &dotted_schema).await;
    let mut taken = {
        let capabilities = Capabilities::probe(pool).await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let live = tsdb::policy::live::read(&mut conn, &capabilities)
            .await
            .unwrap();
        tsdb::policy::desired::adopt(live.table(&dotted_schema).unwrap(), None).overrides
    };
    taken.set("retention_policy", "45 days").unwrap();
    let id = save(
        pool,
        &dotted_schema,
        &PolicyEdit {
            managed: Some(true),
            overrides: taken,
        },
    )
    .await;
    apply_all(pool, &source).await;
    assert_eq!(lifecycle(pool, &dotted_table).await, other_before);
    let (object_id, relation): (String, serde_json::Value) = sqlx::query_as(
        "SELECT object_id, before -> 'relation' FROM console.audit_log WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(object_id, "\"zz_probe.a\".b");
    assert_eq!(relation["schema"], "zz_probe.a");
    assert_eq!(relation["name"], "b");
    assert!(matches!(
        revert(pool, &source, id).await,
        Applied::Done { .. }
    ));
    assert_eq!(lifecycle(pool, &dotted_schema).await, before);
    assert_eq!(lifecycle(pool, &dotted_table).await, other_before);

    // An entry written before names were pairs, naming `zz_probe.a.b` unquoted: with
    // both tables there it cannot be told which one it meant, and it says so.
    let legacy = tsdb::audit::record(
        pool,
        &tsdb::audit::Entry {
            actor: &Actor::System,
            client_addr: None,
            action: "policy.edit",
            object_type: Some("hypertable"),
            object_id: Some("zz_probe.a.b"),
            before: Some(serde_json::json!({"managed": null, "overrides": {}})),
            after: Some(serde_json::json!({"managed": true, "overrides": {}})),
            outcome: tsdb::audit::Outcome::Success,
            detail: None,
        },
    )
    .await
    .unwrap();
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let recorded = store::recorded(&mut conn, legacy).await.unwrap();
    let live = tsdb::policy::live::read(&mut conn, &capabilities)
        .await
        .unwrap();
    let ambiguous = recorded.name.resolve(&live).unwrap_err();
    assert!(ambiguous.contains("could be"), "{ambiguous}");
}

async fn one_apply_at_a_time(pool: &sqlx::PgPool) {
    setup(pool).await;
    let source = source();
    let shown = plan(pool, &source).await;
    let fingerprint = shown.fingerprint();
    assert!(!shown.in_sync());
    // Eight applies of the plan shown, at once.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let pool = pool.clone();
        let source = source.clone();
        let fingerprint = fingerprint.clone();
        tasks.push(tokio::spawn(async move {
            let intent = Intent::Reconcile {
                source: &source,
                only: None,
            };
            apply_with(&pool, &intent, Confirmations::default(), Some(fingerprint)).await
        }));
    }
    let mut done = 0;
    for task in tasks {
        match task.await.unwrap() {
            Applied::Done { report, .. } => {
                done += 1;
                assert_eq!(report.failed(), 0, "{report:?}");
            }
            Applied::Busy | Applied::Changed { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(done, 1, "exactly one apply ran the plan");
    let added: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console.policy_steps WHERE summary LIKE 'add retention policy%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        added as usize,
        shown
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::AddRetentionPolicy)
            .count()
    );

    // A plan shown before a newer edit does not overwrite it.
    let metric = HypertableName::new("factory_telemetry", "metric_hist");
    let stale = plan(pool, &source).await.fingerprint();
    save(
        pool,
        &metric,
        &edit(None, &[("retention_policy", "120 days")]),
    )
    .await;
    let intent = Intent::Reconcile {
        source: &source,
        only: None,
    };
    match apply_with(pool, &intent, Confirmations::default(), Some(stale)).await {
        Applied::Changed { plan } => assert_eq!(plan.steps.len(), 1),
        other => panic!("a stale plan ran: {other:?}"),
    }
    assert_eq!(
        job_setting(pool, "policy_retention", "metric_hist", "drop_after")
            .await
            .as_deref(),
        Some("90 days")
    );
}

async fn startup_holds_what_would_lose_data(pool: &sqlx::PgPool) {
    setup(pool).await;
    let mut source = source();
    // A 2-day retention would drop the demo's older chunks: held, not applied; one table
    // the configuration file gives 60 days loses nothing and applies.
    source.defaults.compression_after = Some("1 day".parse().unwrap());
    source.defaults.retention = Some("2 days".parse().unwrap());
    let mut sixty = PolicyOverride::default();
    sixty.set("retention_policy", "60 days").unwrap();
    source
        .tables
        .insert("factory_telemetry.metric_hist".into(), sixty);
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let applied = apply::apply(
        pool,
        &capabilities,
        &Intent::Reconcile {
            source: &source,
            only: None,
        },
        &Request {
            actor: &Actor::System,
            client_addr: None,
            trigger: Trigger::Startup,
            expected: None,
            confirmations: Confirmations::default(),
            hold_unconfirmed: true,
        },
    )
    .await
    .unwrap();
    let Applied::Done { report, held } = applied else {
        panic!("{applied:?}")
    };
    assert!(!held.is_empty());
    assert!(held.iter().all(|h| h.relation.table != "metric_hist"));
    assert_eq!(
        job_setting(pool, "policy_retention", "metric_hist", "drop_after")
            .await
            .as_deref(),
        Some("60 days")
    );
    // What loses nothing ran on the held tables too: their compression policies.
    assert!(report
        .results
        .iter()
        .any(|r| r.summary.starts_with("add compression policy")
            && held.iter().any(|h| h.relation.to_string() == r.table)));
    assert!(report
        .results
        .iter()
        .all(|r| !r.summary.starts_with("add retention policy")
            || !held.iter().any(|h| h.relation.to_string() == r.table)));
    for hazard in &held {
        assert!(
            job_setting(
                pool,
                "policy_retention",
                &hazard.relation.table,
                "drop_after"
            )
            .await
            .is_none(),
            "{} got its retention unconfirmed",
            hazard.relation
        );
    }
}

#[tokio::test]
async fn plan_apply_and_revert_on_devdb() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    scenario(&pool).await;
}

#[tokio::test]
async fn plan_apply_revert_and_adoption_on_the_oldest_release() {
    let Some(tier) = oldest_tier() else { return };
    let database = tier.database("policies_oldest").await;
    let pool = database.pool(4).await;
    scenario(&pool).await;
    adoption_and_round_trips(&pool).await;
    pool.close().await;
}

#[tokio::test]
async fn plan_apply_and_revert_on_the_native_tier() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("policies").await;
        let pool = database.pool(4).await;
        scenario(&pool).await;
        pool.close().await;
    }
}

#[tokio::test]
async fn taking_a_table_under_management_and_reverting_restore_live_on_devdb() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    adoption_and_round_trips(&pool).await;
    dotted_names(&pool).await;
}

#[tokio::test]
async fn taking_a_table_under_management_and_reverting_restore_live_on_the_native_tier() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("adoption").await;
        let pool = database.pool(4).await;
        adoption_and_round_trips(&pool).await;
        dotted_names(&pool).await;
        pool.close().await;
    }
}

#[tokio::test]
async fn applies_run_one_at_a_time_and_only_the_plan_shown() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("one_apply").await;
        let pool = database.pool(10).await;
        one_apply_at_a_time(&pool).await;
        pool.close().await;
    }
}

#[tokio::test]
async fn the_startup_apply_holds_what_would_lose_data() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    startup_holds_what_would_lose_data(&pool).await;
}

#[tokio::test]
async fn a_locked_table_fails_its_step_quickly_and_the_others_apply() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("policy_lock").await;
        let pool = database.pool(4).await;
        setup(&pool).await;
        // New compression settings and chunk interval for one table: DDL that needs its lock.
        let metric = HypertableName::new("factory_telemetry", "metric_hist");
        save(
            &pool,
            &metric,
            &edit(
                None,
                &[
                    ("segment_by", "equipment_id"),
                    ("chunk_time_interval", "12 hours"),
                ],
            ),
        )
        .await;
        // The plant holds a lock on that table (a long transaction, a migration).
        let mut plant = pool.begin().await.unwrap();
        sqlx::query("LOCK TABLE factory_telemetry.metric_hist IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *plant)
            .await
            .unwrap();
        let report = apply_confirmed(&pool, &source()).await;
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
        apply_all(&pool, &source()).await;
        assert!(plan(&pool, &source()).await.in_sync());
        pool.close().await;
    }
}

/// One step of a random history: an edit of one setting, an apply, or a revert of an
/// earlier edit.
#[derive(Debug, Clone)]
enum Op {
    Edit(&'static str, &'static str),
    Apply,
    Revert(usize),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        3 => prop::sample::select(vec![
            ("retention_policy", "none"),
            ("retention_policy", "30 days"),
            ("retention_policy", "120 days"),
            ("compression_after", "none"),
            ("compression_after", "10 days"),
            ("chunk_time_interval", "1 day"),
            ("chunk_time_interval", "14 days"),
            ("compression_schedule", "6 hours"),
            ("retention_schedule", "2 days"),
            ("order_by", "ts"),
        ])
        .prop_map(|(key, value)| Op::Edit(key, value)),
        2 => Just(Op::Apply),
        2 => (0usize..8).prop_map(Op::Revert),
    ]
}

/// Runs `ops` on a fresh user-shaped table: after every revert, live is exactly the state
/// recorded before the edit it reverts. Returns how many reverts it checked.
async fn history(pool: &sqlx::PgPool, case: usize, ops: &[Op]) -> usize {
    let mut reverted = 0;
    let source = source();
    let table = user_table(pool, &format!("prop_{case}"), "t").await;
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let live = tsdb::policy::live::read(&mut conn, &capabilities)
        .await
        .unwrap();
    drop(conn);
    let kept = tsdb::policy::desired::adopt(live.table(&table).unwrap(), None);
    let mut current = PolicyEdit {
        managed: Some(true),
        overrides: kept.overrides,
    };
    save(pool, &table, &current).await;
    // Edits not reverted yet, with the live state each was saved over.
    let mut edits: Vec<(i64, String)> = Vec::new();
    for op in ops {
        match op {
            Op::Edit(key, value) => {
                let mut next = current.clone();
                next.overrides.set(key, value).unwrap();
                let effective = next
                    .overrides
                    .over(&source.base(&table, ObjectKind::Hypertable));
                if !effective.problems().is_empty() {
                    continue;
                }
                let before = lifecycle(pool, &table).await;
                let id = save(pool, &table, &next).await;
                edits.push((id, before));
                current = next;
            }
            Op::Apply => {
                let report = apply_confirmed(pool, &source).await;
                assert_eq!(report.failed(), 0, "{ops:?}: {report:?}");
            }
            Op::Revert(pick) => {
                if edits.is_empty() {
                    continue;
                }
                let (id, before) = edits.remove(pick % edits.len());
                match revert(pool, &source, id).await {
                    Applied::Done { report, .. } => {
                        assert_eq!(report.failed(), 0, "{ops:?}: {report:?}")
                    }
                    other => panic!("{ops:?}: revert of {id}: {other:?}"),
                }
                assert_eq!(
                    lifecycle(pool, &table).await,
                    before,
                    "{ops:?}: live after reverting entry {id}"
                );
                reverted += 1;
                current = store::current(&mut *pool.acquire().await.unwrap(), &table)
                    .await
                    .unwrap();
            }
        }
    }
    reverted
}

#[test]
fn random_edits_applies_and_reverts_end_where_the_last_revert_says() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let devdb = DevDb::start();
    let pool = runtime.block_on(connect(&devdb.url()));
    runtime.block_on(async { tsdb::migrations::run(&pool).await.unwrap() });
    let case = std::sync::atomic::AtomicUsize::new(0);
    let reverts = std::sync::atomic::AtomicUsize::new(0);
    // A fixed seed: the same histories each run, so that the count below holds.
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 12,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    runner
        .run(&proptest::collection::vec(op(), 1..10), |ops| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let checked = runtime.block_on(history(&pool, n, &ops));
            reverts.fetch_add(checked, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    let reverts = reverts.into_inner();
    eprintln!(
        "{reverts} reverts checked in {} histories",
        case.into_inner()
    );
    assert!(reverts >= 5, "only {reverts} reverts were checked");
}
