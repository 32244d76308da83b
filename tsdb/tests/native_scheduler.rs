//! What only a native TimescaleDB can show (devdb has no job scheduler and serves one
//! connection): jobs the scheduler runs by itself, their failures with the error text, a
//! job caught while it runs (`next_start` reads -infinity then), several connections
//! working at once, and task locks between console instances. Every test here runs on the
//! native tier only.

use std::time::Duration;
use tsdb::capabilities::Capabilities;
use tsdb::facts::{JobFacts, RunStatus, Snapshot};
use tsdb::monitoring::{gather, Pass, PassCache};
use tsdb::testing::native_tiers;

async fn snapshot(pool: &sqlx::PgPool) -> Snapshot {
    let capabilities = Capabilities::probe(pool).await.unwrap();
    gather(pool, &capabilities, &mut PassCache::default(), Pass::Full)
        .await
        .unwrap()
}

/// Ten days of five-minute readings of four sensors in daily chunks, compression on
/// (segment by sensor), no policy yet.
async fn readings(pool: &sqlx::PgPool) {
    sqlx::raw_sql(
        "CREATE TABLE readings (ts timestamptz NOT NULL, sensor int, value float8);
         SELECT create_hypertable('readings', by_range('ts', interval '1 day'));
         INSERT INTO readings SELECT t, i % 4, random()
           FROM generate_series(now() - interval '10 days', now(), interval '5 minutes')
                WITH ORDINALITY AS g(t, i);
         ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'sensor');",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// Passes until `job` satisfies `done`; the last facts seen when it never does.
async fn wait_for_job(
    pool: &sqlx::PgPool,
    job: i32,
    what: &str,
    done: impl Fn(&JobFacts) -> bool,
) -> (Snapshot, JobFacts) {
    let mut last = None;
    for _ in 0..300 {
        let snapshot = snapshot(pool).await;
        if let Some(facts) = snapshot.jobs.iter().find(|j| j.id == i64::from(job)) {
            if done(facts) {
                let facts = facts.clone();
                return (snapshot, facts);
            }
            last = Some(facts.clone());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("job {job} did not {what} within 60 s; last seen: {last:?}");
}

#[tokio::test]
async fn the_scheduler_runs_a_compression_policy_and_the_snapshot_shows_it() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("policy_runs").await;
        let pool = database.pool(2).await;
        let capabilities = Capabilities::probe(&pool).await.unwrap();
        assert!(capabilities.has_job_scheduler(), "{capabilities:?}");
        if let Some(version) = tier.version() {
            assert_eq!(capabilities.timescaledb_reported.as_deref(), Some(version));
        }
        readings(&pool).await;
        let job: i32 =
            sqlx::query_scalar("SELECT add_compression_policy('readings', interval '2 days')")
                .fetch_one(&pool)
                .await
                .unwrap();

        // Nobody calls run_job: the scheduler starts it on its own, at once.
        let (_, facts) = wait_for_job(&pool, job, "succeed", |j| {
            j.total_runs >= 1 && j.last_run_status == Some(RunStatus::Success)
        })
        .await;
        assert_eq!(facts.kind, "policy_compression");
        assert_eq!(facts.hypertable.as_deref(), Some("public.readings"));
        assert_eq!(facts.total_failures, 0);
        assert!(facts.last_successful_finish.is_some(), "{facts:?}");
        assert!(facts.last_run_duration_seconds.is_some(), "{facts:?}");
        assert!(
            facts.scheduled && facts.next_start.is_some() && !facts.running,
            "{facts:?}"
        );
        // What it did shows too: chunks older than two days are compressed, the policy's
        // compress_after reaches the hypertable's facts, and whatever the run left behind
        // (a policy skips a chunk another session holds locked, e.g. autovacuum's analyze
        // of the fresh data) is counted as backlog exactly as TimescaleDB lists it. Read
        // from a pass that starts after the run: the policy commits chunk by chunk, so a
        // pass during the run read some chunks before it ended and its job after.
        let snapshot = snapshot(&pool).await;
        let table = snapshot
            .hypertables
            .iter()
            .find(|h| h.name == "readings")
            .unwrap();
        assert_eq!(table.compress_after.as_deref(), Some("2 days"));
        assert!(table.compressed_chunk_count >= 1, "{table:?}");
        let (old, left): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE NOT is_compressed)
               FROM timescaledb_information.chunks
              WHERE hypertable_name = 'readings' AND range_end < now() - interval '2 days'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            old >= 7,
            "ten days of one-day chunks: {old} older than two days"
        );
        assert_eq!(table.backlog_chunks, left, "{table:?}");
        assert_eq!(table.compressed_chunk_count, old - left, "{table:?}");
        pool.close().await;
    }
}

#[tokio::test]
async fn a_failing_user_job_shows_its_failures_and_error_text() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("failing_job").await;
        let pool = database.pool(2).await;
        sqlx::raw_sql(
            "CREATE PROCEDURE poll_gateway(job_id int, config jsonb) LANGUAGE plpgsql AS $$
             BEGIN
                 RAISE EXCEPTION 'OPC UA gateway % unreachable', config ->> 'gateway'
                     USING ERRCODE = 'P0001';
             END $$;",
        )
        .execute(&pool)
        .await
        .unwrap();
        let job: i32 = sqlx::query_scalar(
            "SELECT add_job('poll_gateway', interval '1 hour', config => '{\"gateway\": \"line-3\"}')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let (_, facts) = wait_for_job(&pool, job, "fail", |j| j.total_failures >= 1).await;
        assert_eq!(facts.kind, "poll_gateway");
        assert_eq!(facts.last_run_status, Some(RunStatus::Failed));
        assert!(facts.last_successful_finish.is_none(), "{facts:?}");
        assert_eq!(
            facts.last_error.as_deref(),
            Some("OPC UA gateway line-3 unreachable")
        );
        pool.close().await;
    }
}

#[tokio::test]
async fn a_job_caught_running_is_read_without_panicking() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("running_job").await;
        let pool = database.pool(2).await;
        sqlx::raw_sql(
            "CREATE PROCEDURE slow_rollup(job_id int, config jsonb) LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_sleep(4); END $$;",
        )
        .execute(&pool)
        .await
        .unwrap();
        let job: i32 = sqlx::query_scalar("SELECT add_job('slow_rollup', interval '1 hour')")
            .fetch_one(&pool)
            .await
            .unwrap();
        // While it runs the scheduler stores next_start = -infinity: once a panic inside sqlx
        // that stopped the monitoring loop for good.
        let raw: String = loop {
            let (status, next): (Option<String>, Option<String>) = sqlx::query_as(
                "SELECT s.job_status, s.next_start::text FROM timescaledb_information.job_stats s
                  WHERE s.job_id = $1",
            )
            .bind(job)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .unwrap_or_default();
            if status.as_deref() == Some("Running") {
                break next.unwrap_or_default();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (_, facts) = wait_for_job(&pool, job, "be seen running", |j| j.running).await;
        assert!(facts.scheduled, "{facts:?}");
        assert_eq!(raw, "-infinity");
        assert_eq!(facts.next_start, None, "{facts:?}");
        let (_, facts) = wait_for_job(&pool, job, "finish", |j| {
            !j.running && j.last_run_status.is_some()
        })
        .await;
        assert_eq!(facts.last_run_status, Some(RunStatus::Success));
        assert!(
            facts.last_run_duration_seconds.unwrap_or(0.0) >= 4.0,
            "{facts:?}"
        );
        pool.close().await;
    }
}

#[tokio::test]
async fn several_connections_work_at_once() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("concurrency").await;
        let pool = database.pool(4).await;
        sqlx::query("CREATE TABLE counter (n int)")
            .execute(&pool)
            .await
            .unwrap();
        // Four sessions held at the same time, each in its own backend, each mid-transaction.
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut tx = pool.begin().await.unwrap();
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            held.push((pid, tx));
        }
        let mut pids: Vec<i32> = held.iter().map(|(pid, _)| *pid).collect();
        pids.sort_unstable();
        pids.dedup();
        assert_eq!(pids.len(), 4);
        // A lock one holds makes another wait: real concurrency, not interleaved replies.
        let (_, first) = &mut held[0];
        sqlx::query("LOCK TABLE counter IN ACCESS EXCLUSIVE MODE")
            .execute(&mut **first)
            .await
            .unwrap();
        let (_, second) = &mut held[1];
        sqlx::query("SET LOCAL lock_timeout = '200ms'")
            .execute(&mut **second)
            .await
            .unwrap();
        let blocked = sqlx::query("SELECT count(*) FROM counter")
            .execute(&mut **second)
            .await
            .unwrap_err();
        assert!(blocked.to_string().contains("lock timeout"), "{blocked}");
        drop(held);
        pool.close().await;
    }
}

#[tokio::test]
async fn a_task_lock_admits_one_instance_at_a_time() {
    use tsdb::locks::{try_lock, TaskLock};
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("task_lock").await;
        // Two console instances: two pools on one database.
        let (first, second) = (database.pool(2).await, database.pool(2).await);
        let mut held = try_lock(&first, TaskLock::SessionJanitor)
            .await
            .unwrap()
            .expect("the first instance takes it");
        // The work runs on the holding connection.
        let answer: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(held.conn())
            .await
            .unwrap();
        assert_eq!(answer, 1);
        assert!(
            try_lock(&second, TaskLock::SessionJanitor)
                .await
                .unwrap()
                .is_none(),
            "the second instance skips while the first works"
        );
        // Another task's lock is free meanwhile.
        let other = try_lock(&second, TaskLock::StorageSampler)
            .await
            .unwrap()
            .expect("another task's lock");
        other.release().await.unwrap();
        held.release().await.unwrap();
        let after = try_lock(&second, TaskLock::SessionJanitor)
            .await
            .unwrap()
            .expect("released after the work");
        // Dropped without release (a failed or cancelled task): the connection closes and
        // the lock goes with its session.
        drop(after);
        let mut again = None;
        for _ in 0..50 {
            again = try_lock(&first, TaskLock::SessionJanitor).await.unwrap();
            if again.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        again
            .expect("free once the dropped holder's session ended")
            .release()
            .await
            .unwrap();
    }
}

/// A compression run that cannot take one chunk's lock still records a success (from 2.27
/// when another chunk compressed; before, always): the jobs pass names the chunk it left,
/// the alert rules call the job partly failing, and the next clean run clears both.
#[tokio::test]
async fn a_compression_run_that_leaves_a_locked_chunk_is_partly_failing() {
    // 2.13 as well: its policy logs a failed chunk and carries on, whatever the others did.
    for tier in native_tiers()
        .into_iter()
        .chain(tsdb::testing::oldest_tier())
    {
        eprintln!("on {}", tier.describe());
        let database = tier.database("left_behind").await;
        let pool = database.pool(3).await;
        // The scheduler's worker reads the database's settings when it connects.
        sqlx::raw_sql(
            "DO $$ BEGIN
                 EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '1s');
             END $$;",
        )
        .execute(&pool)
        .await
        .unwrap();
        readings(&pool).await;
        let oldest: String = sqlx::query_scalar(
            "SELECT format('%I.%I', chunk_schema, chunk_name) FROM timescaledb_information.chunks
              WHERE hypertable_name = 'readings' ORDER BY range_start LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let mut locker = pool.begin().await.unwrap();
        sqlx::raw_sql(&format!("LOCK TABLE {oldest} IN ACCESS EXCLUSIVE MODE"))
            .execute(&mut *locker)
            .await
            .unwrap();
        let job: i32 = sqlx::query_scalar(
            "SELECT add_compression_policy('readings', interval '2 days',
                                           schedule_interval => interval '1 hour')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        // Waited for through the public view: the pass itself would queue behind the lock.
        let mut finished = false;
        for _ in 0..300 {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT last_run_status FROM timescaledb_information.job_stats
                  WHERE job_id = $1 AND total_runs >= 1 AND job_status <> 'Running'",
            )
            .bind(job)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .flatten();
            if status.is_some() {
                assert_eq!(
                    status.as_deref(),
                    Some("Success"),
                    "TimescaleDB's own verdict"
                );
                finished = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            finished,
            "the scheduler's first run did not end within 60 s"
        );
        locker.rollback().await.unwrap();

        let seen = snapshot(&pool).await;
        let facts = seen.jobs.iter().find(|j| j.id == i64::from(job)).unwrap();
        assert_eq!(facts.last_run_status, Some(RunStatus::Success));
        let left = facts
            .left_behind
            .clone()
            .expect("the locked chunk is named");
        assert_eq!((left.count, left.chunks), (1, vec![oldest.clone()]));
        let compressed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM timescaledb_information.chunks
              WHERE hypertable_name = 'readings' AND is_compressed",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            compressed >= 6,
            "the other old chunks compressed: {compressed}"
        );

        // The public-API reading finds the same chunk.
        let capabilities = Capabilities::probe(&pool).await.unwrap();
        let public = capabilities.reading_public_api_only("forced by the test");
        let rows = tsdb::monitoring::jobs::jobs(&pool, &public).await.unwrap();
        let row = rows.iter().find(|r| r.facts.id == i64::from(job)).unwrap();
        assert_eq!(row.facts.left_behind, facts.left_behind);

        let rules = tsdb::alerts::AlertRules {
            stale_factor: 3,
            scheduler: true,
        };
        let conditions = tsdb::alerts::evaluate(
            &seen.jobs,
            &std::collections::HashMap::new(),
            rules,
            seen.taken_at,
        );
        let partly: Vec<_> = conditions
            .iter()
            .filter(|c| c.job_id == i64::from(job))
            .collect();
        assert_eq!(partly.len(), 1, "{conditions:?}");
        assert_eq!(partly[0].kind, tsdb::alerts::AlertKind::PartlyFailing);
        assert!(partly[0].message.contains(&oldest), "{}", partly[0].message);

        // A run without the lock compresses it: nothing left, no condition.
        sqlx::query("CALL run_job($1)")
            .bind(job)
            .execute(&pool)
            .await
            .unwrap();
        let seen = snapshot(&pool).await;
        let facts = seen.jobs.iter().find(|j| j.id == i64::from(job)).unwrap();
        assert_eq!(facts.left_behind, None, "{facts:?}");
    }
}
