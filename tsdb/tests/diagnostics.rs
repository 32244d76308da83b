//! Diagnostics against real databases: each check that a database can be built to trigger
//! fires on one (native tier: a failing job, batches of 5 rows, 150 one-hour chunks, an
//! aggregate never refreshed whose source's retention outruns its refresh window; devdb:
//! no scheduler, an extension behind the newest known), and a healthy database with the
//! demo data and its policies is quiet. Exhausted workers and over-large chunks need a
//! server configured for them: the rules' unit tests cover those.

use std::str::FromStr;
use std::time::Duration;
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::demo::DemoVolume;
use tsdb::diagnostics::{probe, rules, Check, Diagnosis};
use tsdb::interval::PolicyInterval;
use tsdb::monitoring::{gather, Pass, PassCache};
use tsdb::testing::{connect, flaky_job, native_tiers, DevDb};

async fn diagnose(pool: &sqlx::PgPool) -> Diagnosis {
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let snapshot = gather(pool, &capabilities, &mut PassCache::default(), Pass::Full)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let facts = probe::facts(&mut conn, &capabilities).await.unwrap();
    rules::diagnose(&snapshot, &facts)
}

fn fired(diagnosis: &Diagnosis) -> Vec<Check> {
    diagnosis.findings.iter().map(|f| f.check).collect()
}

async fn demo(pool: &sqlx::PgPool) {
    tsdb::migrations::run(pool).await.unwrap();
    let volume = DemoVolume {
        days: 20,
        equipment: 2,
        sample_seconds: 300,
    };
    tsdb::demo::load(pool, volume, PolicyInterval::from_str("7 days").unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn devdb_has_no_scheduler_and_an_older_extension() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    demo(&pool).await;
    let diagnosis = diagnose(&pool).await;
    let checks = fired(&diagnosis);
    assert!(checks.contains(&Check::Scheduler), "{diagnosis:#?}");
    assert!(checks.contains(&Check::ExtensionVersion), "{diagnosis:#?}");
    assert_eq!(diagnosis.checks.len(), Check::ALL.len());
}

#[tokio::test]
async fn a_healthy_native_database_is_quiet() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("diagnostics_healthy").await;
        let pool = database.pool(4).await;
        demo(&pool).await;
        let diagnosis = diagnose(&pool).await;
        let postgres: i32 =
            sqlx::query_scalar("SELECT current_setting('server_version_num')::int / 10000")
                .fetch_one(&pool)
                .await
                .unwrap();
        if postgres == 15 {
            // 2.28.3 is current for PostgreSQL 15, and the last: said once, for information.
            let titles: Vec<(&str, Check)> = diagnosis
                .findings
                .iter()
                .map(|f| (f.title.as_str(), f.check))
                .collect();
            assert_eq!(
                titles,
                [(
                    "TimescaleDB 2.28.3 is the last release for PostgreSQL 15",
                    Check::ExtensionVersion
                )],
                "{diagnosis:#?}"
            );
        } else {
            assert_eq!(diagnosis.findings, Vec::new(), "{diagnosis:#?}");
        }
        pool.close().await;
    }
}

#[tokio::test]
async fn each_check_fires_on_a_native_database_built_to_trigger_it() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("diagnostics_triggered").await;
        let pool = database.pool(4).await;
        tsdb::migrations::run(&pool).await.unwrap();
        sqlx::raw_sql(
            "CREATE SCHEMA lab;
             -- 1,000 devices with 5 rows each on one day, segmented by device: 5-row batches.
             CREATE TABLE lab.fine (ts timestamptz NOT NULL, device int NOT NULL, v float8);
             SELECT create_hypertable('lab.fine', by_range('ts', interval '1 day'));
             INSERT INTO lab.fine
                  SELECT date_trunc('day', now()) - interval '10 days' + (i % 5) * interval '1 hour',
                         i / 5, random()
                    FROM generate_series(0, 4999) i;
             ALTER TABLE lab.fine SET (timescaledb.compress, timescaledb.compress_segmentby = 'device');
             SELECT compress_chunk(c) FROM show_chunks('lab.fine') c;
             SELECT add_retention_policy('lab.fine', interval '30 days');
             -- Refreshed from the beginning (no start offset) while the source drops after 30
             -- days; its policy starts tomorrow, so it has never run.
             CREATE MATERIALIZED VIEW lab.fine_daily WITH (timescaledb.continuous) AS
                  SELECT time_bucket('1 day', ts) AS bucket, device, avg(v) AS v
                    FROM lab.fine GROUP BY 1, 2 WITH NO DATA;
             SELECT add_continuous_aggregate_policy('lab.fine_daily', start_offset => NULL,
                    end_offset => interval '1 hour', schedule_interval => interval '1 day',
                    initial_start => now() + interval '1 day');
             -- 150 one-hour chunks of a few bytes each.
             CREATE TABLE lab.tiny (ts timestamptz NOT NULL, v int);
             SELECT create_hypertable('lab.tiny', by_range('ts', interval '1 hour'));
             INSERT INTO lab.tiny SELECT now() - i * interval '1 hour', i FROM generate_series(1, 150) i;",
        )
        .execute(&pool)
        .await
        .unwrap();
        let job = flaky_job::create(&pool, "1 day", "1 day").await;
        flaky_job::set_failing(&pool, true).await;
        let capabilities = Capabilities::probe(&pool).await.unwrap();
        let run = tsdb::jobs::actions::run_now(
            &pool,
            &capabilities,
            &Actor::System,
            None,
            job,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        assert_eq!(run.succeeded, Some(false));

        let diagnosis = diagnose(&pool).await;
        let subject = |check: Check| {
            diagnosis
                .findings
                .iter()
                .filter(|f| f.check == check)
                .filter_map(|f| f.subject.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            subject(Check::FailingJobs),
            [format!("job {job}")],
            "{diagnosis:#?}"
        );
        assert_eq!(subject(Check::TinyBatches), ["lab.fine"], "{diagnosis:#?}");
        assert_eq!(subject(Check::SmallChunks), ["lab.tiny"], "{diagnosis:#?}");
        assert_eq!(
            subject(Check::CaggLag),
            ["lab.fine_daily"],
            "{diagnosis:#?}"
        );
        assert_eq!(
            subject(Check::RetentionOutrunsCagg),
            ["lab.fine_daily"],
            "{diagnosis:#?}"
        );
        let batches = diagnosis
            .findings
            .iter()
            .find(|f| f.check == Check::TinyBatches)
            .unwrap();
        assert!(
            batches.title.contains("batches of 5 rows"),
            "{}",
            batches.title
        );
        pool.close().await;
    }
}
