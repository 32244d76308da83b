//! Keeping the native tier's job scheduler out of a test's way: a test that works on a
//! policy's chunks by hand while the scheduler runs the same policy can deadlock (40P01)
//! or wait on its locks, which is what failed CI once.

use sqlx::PgPool;
use std::time::{Duration, Instant};

/// Pauses `job_id` and waits (at most 60 s) until no scheduler run of it is left. A run
/// the scheduler launched in the same instant may still start; callers that then deadlock
/// with it retry (see [`call_run_job`]).
pub async fn pause_and_wait(pool: &PgPool, job_id: i32) {
    sqlx::query("SELECT alter_job($1, scheduled => false)")
        .bind(job_id)
        .execute(pool)
        .await
        .expect("pause the job");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let running: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity a
                              JOIN timescaledb_information.jobs j
                                ON j.application_name = a.application_name
                             WHERE j.job_id = $1 AND a.datname = current_database())",
        )
        .bind(job_id)
        .fetch_one(pool)
        .await
        .expect("look for the scheduler's run");
        if !running {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the scheduler's run of job {job_id} did not end in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `CALL run_job(job_id)` after [`pause_and_wait`], retried (up to 5 times) when it
/// deadlocks with a scheduler run launched in the moment before the pause.
pub async fn call_run_job(pool: &PgPool, job_id: i32) {
    pause_and_wait(pool, job_id).await;
    for attempt in 1.. {
        match sqlx::query("CALL run_job($1)")
            .bind(job_id)
            .execute(pool)
            .await
        {
            Ok(_) => return,
            Err(sqlx::Error::Database(e))
                if e.code().as_deref() == Some("40P01") && attempt < 5 =>
            {
                eprintln!("run_job({job_id}) met a scheduler run (deadlock), attempt {attempt}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                pause_and_wait(pool, job_id).await;
            }
            Err(other) => panic!("run_job({job_id}): {other}"),
        }
    }
}
