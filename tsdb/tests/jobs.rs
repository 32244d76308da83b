//! Jobs and their alerts against a real TimescaleDB: run now (a failure is an outcome
//! with its SQLSTATE, recorded by the console), pause, resume and reschedule changing
//! TimescaleDB's own job state, history merging the console's runs with TimescaleDB's,
//! alerts raised and cleared with their webhook messages queued in order; and on the
//! native tier, the scheduler running a failing job by itself, execution logging turned
//! on, and "run now" refused while the same job runs.

use std::time::Duration;
use tsdb::alerts::notifications::{self, claim_due};
use tsdb::alerts::store::{self, reconcile};
use tsdb::alerts::{evaluate, AlertKind, AlertRules};
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::jobs::{actions, history, logging, RunSource};
use tsdb::testing::flaky_job::{self, set_failing};
use tsdb::testing::{connect, native_tiers, oldest_tier, DevDb};
use tsdb::Error;

fn olga() -> Actor {
    Actor::User {
        id: 1,
        name: "olga".into(),
    }
}

const RULES: AlertRules = AlertRules {
    stale_factor: 3,
    scheduler: true,
};

async fn conditions(pool: &sqlx::PgPool, rules: AlertRules) -> Vec<tsdb::alerts::Condition> {
    let mut conn = pool.acquire().await.unwrap();
    let capabilities = Capabilities::probe_on(&mut conn).await.unwrap();
    let jobs: Vec<_> = tsdb::monitoring::jobs::jobs(&mut *conn, &capabilities)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.facts)
        .collect();
    let console = history::latest_console_runs(&mut conn).await.unwrap();
    evaluate(&jobs, &console, rules, chrono::Utc::now())
}

async fn scheduled(pool: &sqlx::PgPool, job: i32) -> (bool, String) {
    sqlx::query_as(
        "SELECT scheduled, schedule_interval::text FROM timescaledb_information.jobs WHERE job_id = $1",
    )
    .bind(job)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// What works the same with and without a scheduler.
async fn scenario(pool: &sqlx::PgPool, rules: AlertRules) {
    tsdb::migrations::run(pool).await.unwrap();
    let capabilities = Capabilities::probe(pool).await.unwrap();
    let job = flaky_job::create(pool, "1 hour", "1 day").await;
    let timeout = Duration::from_secs(60);

    // Run now: the job's failure is the run's outcome, with its code and message.
    let run = actions::run_now(pool, &capabilities, &olga(), Some("10.0.0.9"), job, timeout)
        .await
        .unwrap();
    assert_eq!(run.succeeded, Some(false));
    assert_eq!(run.sqlstate.as_deref(), Some("P0001"));
    assert_eq!(run.message.as_deref(), Some("sensor table missing"));
    assert_eq!(run.source, RunSource::Console);
    assert!(run.duration_seconds().is_some_and(|d| d >= 0.0));
    let missing = actions::run_now(pool, &capabilities, &olga(), None, 999_999, timeout).await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");

    // The alert is raised from the console's run, and a webhook message queued.
    let found = conditions(pool, rules).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, AlertKind::Failing);
    assert_eq!(
        found[0].message,
        "run from the console failed [P0001]: sensor table missing"
    );
    let mut conn = pool.acquire().await.unwrap();
    let changes = reconcile(&mut conn, &found, &[], true, None).await.unwrap();
    assert_eq!(changes.raised.len(), 1);
    // Seeing it again changes nothing and queues nothing.
    let again = reconcile(&mut conn, &found, &[], true, None).await.unwrap();
    assert!(again.raised.is_empty() && again.cleared.is_empty());
    let open = store::open(&mut *conn).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].job_id, i64::from(job));

    let raised = claim_due(&mut *conn, 10, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].payload["event"], "raised");
    assert_eq!(raised[0].payload["alert"]["job_id"], job);
    // Claimed: not handed out twice.
    assert!(claim_due(&mut *conn, 10, Duration::from_secs(30))
        .await
        .unwrap()
        .is_empty());
    notifications::failed(&mut *conn, &raised[0], "HTTP 500")
        .await
        .unwrap();

    // Acknowledge once; a second time is refused.
    let acknowledged = store::acknowledge(&mut conn, &olga(), None, open[0].id)
        .await
        .unwrap();
    assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("olga"));
    let twice = store::acknowledge(&mut conn, &olga(), None, open[0].id).await;
    assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");
    let quiet = reconcile(&mut conn, &found, &[], true, Some(Duration::ZERO))
        .await
        .unwrap();
    assert!(quiet.reminded.is_empty());

    // A compression run that left chunks is an alert of its own kind; while the job runs
    // its alert is neither cleared nor raised again.
    let partly = tsdb::alerts::Condition {
        kind: AlertKind::PartlyFailing,
        message: "its last run succeeded but left 1 chunk past compress-after uncompressed".into(),
        ..found[0].clone()
    };
    let both = [found[0].clone(), partly];
    let second = reconcile(&mut conn, &both, &[], false, None).await.unwrap();
    assert_eq!(second.raised.len(), 1, "{second:?}");
    assert_eq!(second.raised[0].kind, AlertKind::PartlyFailing);
    assert_eq!(
        second.raised[0].title(),
        format!("job {job} ({}) is partly failing", found[0].job_kind)
    );
    let running = [(i64::from(job), AlertKind::PartlyFailing)];
    let waiting = reconcile(&mut conn, &found, &running, false, None)
        .await
        .unwrap();
    assert!(
        waiting.raised.is_empty() && waiting.cleared.is_empty(),
        "{waiting:?}"
    );
    let ended = reconcile(&mut conn, &found, &[], false, None)
        .await
        .unwrap();
    assert_eq!(ended.cleared.len(), 1, "{ended:?}");
    assert_eq!(ended.cleared[0].kind, AlertKind::PartlyFailing);

    // Fixed, run again: no condition, the alert clears and "resolved" is queued, but it
    // waits for the undelivered "raised" before it.
    drop(conn);
    set_failing(pool, false).await;
    let run = actions::run_now(pool, &capabilities, &olga(), None, job, timeout)
        .await
        .unwrap();
    assert_eq!(run.succeeded, Some(true), "{run:?}");
    assert!(conditions(pool, rules).await.is_empty());
    let mut conn = pool.acquire().await.unwrap();
    let changes = reconcile(&mut conn, &[], &[], true, None).await.unwrap();
    assert_eq!(changes.cleared.len(), 1);
    assert!(store::open(&mut *conn).await.unwrap().is_empty());
    sqlx::query("UPDATE console.alert_notifications SET next_attempt_at = now() + interval '1 hour' WHERE event = 'raised'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(claim_due(&mut *conn, 10, Duration::from_secs(30))
        .await
        .unwrap()
        .is_empty());
    notifications::delivered(&mut *conn, raised[0].id)
        .await
        .unwrap();
    let resolved = claim_due(&mut *conn, 10, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].payload["event"], "resolved");
    let recent = store::recent(&mut *conn, Some(job), 10).await.unwrap();
    assert_eq!(recent.len(), 2, "the failing and the partly failing alerts");
    assert!(recent.iter().all(|alert| alert.cleared_at.is_some()));

    // History lists both console runs, newest first, with who started them.
    let runs = history::runs(&mut conn, &capabilities, job, 50)
        .await
        .unwrap();
    let console: Vec<_> = runs
        .iter()
        .filter(|r| r.source == RunSource::Console)
        .collect();
    assert_eq!(console.len(), 2, "{runs:#?}");
    assert_eq!(console[0].succeeded, Some(true));
    assert_eq!(console[1].succeeded, Some(false));
    assert_eq!(console[1].started_by.as_deref(), Some("olga"));
    drop(conn);

    // Pause, resume and reschedule change TimescaleDB's own job.
    actions::set_scheduled(pool, &capabilities, &olga(), None, job, false)
        .await
        .unwrap();
    assert!(!scheduled(pool, job).await.0);
    actions::set_scheduled(pool, &capabilities, &olga(), None, job, true)
        .await
        .unwrap();
    assert!(scheduled(pool, job).await.0);
    actions::set_schedule(
        pool,
        &capabilities,
        &olga(),
        None,
        job,
        "30 minutes".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(scheduled(pool, job).await.1, "00:30:00");

    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, outcome FROM console.audit_log WHERE actor_name = 'olga' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let audited: Vec<(&str, &str)> = audited
        .iter()
        .map(|(a, o)| (a.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        audited,
        [
            ("job.run", "failure"),
            ("alert.acknowledge", "success"),
            ("job.run", "success"),
            ("job.pause", "success"),
            ("job.resume", "success"),
            ("job.schedule", "success"),
        ]
    );
}

#[tokio::test]
async fn jobs_and_alerts_on_devdb() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let pool = connect(&devdb.url()).await;
    let capabilities = Capabilities::probe(&pool).await.unwrap();
    assert!(!capabilities.has_job_scheduler());
    scenario(
        &pool,
        AlertRules {
            scheduler: false,
            ..RULES
        },
    )
    .await;
    let mut conn = pool.acquire().await.unwrap();
    let state = logging::state(&mut conn, &capabilities).await.unwrap();
    assert!(state.history_available && !state.enabled, "{state:?}");
}

#[tokio::test]
async fn jobs_and_alerts_on_the_oldest_release() {
    let Some(tier) = oldest_tier() else { return };
    let database = tier.database("jobs_oldest").await;
    let pool = database.pool(4).await;
    scenario(&pool, RULES).await;
    pool.close().await;
}

#[tokio::test]
async fn jobs_and_alerts_on_the_native_tier() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("jobs").await;
        let pool = database.pool(4).await;
        scenario(&pool, RULES).await;
        pool.close().await;
    }
}

/// Polls `check` every 200 ms for up to 60 s.
async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen within 60 s");
}

#[tokio::test]
async fn the_scheduler_fails_a_job_the_watcher_alerts_and_logging_shows_successes() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("job_scheduler").await;
        let pool = database.pool(4).await;
        tsdb::migrations::run(&pool).await.unwrap();
        let capabilities = Capabilities::probe(&pool).await.unwrap();
        let job = flaky_job::create(&pool, "1 second", "0 seconds").await;

        // Nobody runs it: the scheduler does, and fails; the alert names the error and code.
        wait_until("a scheduled failure", || async {
            conditions(&pool, RULES)
                .await
                .iter()
                .any(|c| c.job_id == i64::from(job) && c.kind == AlertKind::Failing)
        })
        .await;
        let found = conditions(&pool, RULES).await;
        assert_eq!(
            found[0].message, "last scheduled run failed [P0001]: sensor table missing",
            "{found:?}"
        );
        let mut conn = pool.acquire().await.unwrap();
        let runs = history::runs(&mut conn, &capabilities, job, 10)
            .await
            .unwrap();
        assert!(
            runs.iter().any(|r| r.source == RunSource::Scheduler
                && r.succeeded == Some(false)
                && r.sqlstate.as_deref() == Some("P0001")),
            "{runs:#?}"
        );

        // Execution logging: off by default, turned on (audited), then successes are listed.
        let before = logging::state(&mut conn, &capabilities).await.unwrap();
        assert!(!before.enabled && before.can_enable, "{before:?}");
        drop(conn);
        logging::enable(&pool, &capabilities, &olga(), None)
            .await
            .unwrap();
        set_failing(&pool, false).await;
        wait_until("a logged scheduler success", || async {
            let mut conn = pool.acquire().await.unwrap();
            history::runs(&mut conn, &capabilities, job, 20)
                .await
                .unwrap()
                .iter()
                .any(|r| r.source == RunSource::Scheduler && r.succeeded == Some(true))
        })
        .await;
        let mut conn = pool.acquire().await.unwrap();
        assert!(
            logging::state(&mut conn, &capabilities)
                .await
                .unwrap()
                .enabled
        );
        wait_until("the condition to end", || async {
            conditions(&pool, RULES).await.is_empty()
        })
        .await;
        for statement in [
            "ALTER SYSTEM RESET timescaledb.enable_job_execution_logging",
            "SELECT pg_reload_conf()",
        ] {
            sqlx::query(statement).execute(&mut *conn).await.unwrap();
        }

        // Run now while the console already runs the job: refused, not queued.
        actions::set_scheduled(&pool, &capabilities, &olga(), None, job, false)
            .await
            .unwrap();
        flaky_job::set_sleep(&pool, 2.0).await;
        let timeout = Duration::from_secs(60);
        let actor = olga();
        let (first, second) = tokio::join!(
            actions::run_now(&pool, &capabilities, &actor, None, job, timeout),
            async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                actions::run_now(&pool, &capabilities, &actor, None, job, timeout).await
            }
        );
        assert_eq!(first.unwrap().succeeded, Some(true));
        match second {
            Err(Error::Conflict(message)) => {
                assert!(message.contains("already being run"), "{message}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }

        // A run longer than the time-out is stopped and says so.
        let short = actions::run_now(
            &pool,
            &capabilities,
            &olga(),
            None,
            job,
            Duration::from_millis(300),
        )
        .await
        .unwrap();
        assert_eq!(short.succeeded, Some(false));
        assert_eq!(short.sqlstate.as_deref(), Some("57014"));
        assert!(
            short.message.as_deref().unwrap().contains("run time-out"),
            "{short:?}"
        );
        pool.close().await;
    }
}
