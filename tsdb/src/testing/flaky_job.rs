//! A user-defined TimescaleDB job whose failing is switched from the test: it raises
//! `sensor table missing` (SQLSTATE P0001) while `public.job_switch.fail` is true, and
//! sleeps `job_switch.sleep` seconds first (for "already running" and time-out tests).

use sqlx::PgPool;

/// Creates the switch (failing, no sleep), the procedure and the job; returns its id.
/// `initial_delay` delays the first scheduled start (`0 seconds`: start at once).
pub async fn create(pool: &PgPool, schedule: &str, initial_delay: &str) -> i32 {
    sqlx::raw_sql(
        "CREATE TABLE public.job_switch (fail boolean NOT NULL, sleep float8 NOT NULL DEFAULT 0);
         INSERT INTO public.job_switch VALUES (true);
         CREATE PROCEDURE public.check_sensors(job_id int, config jsonb) LANGUAGE plpgsql AS $$
         BEGIN
           PERFORM pg_sleep((SELECT sleep FROM public.job_switch));
           IF (SELECT fail FROM public.job_switch) THEN
             RAISE EXCEPTION 'sensor table missing' USING ERRCODE = 'P0001';
           END IF;
         END $$;",
    )
    .execute(pool)
    .await
    .expect("create the flaky job's procedure");
    sqlx::query_scalar(
        "SELECT add_job('public.check_sensors', $1::interval,
                        initial_start => now() + $2::interval)",
    )
    .bind(schedule)
    .bind(initial_delay)
    .fetch_one(pool)
    .await
    .expect("add the flaky job")
}

/// Makes the job fail (or succeed) from its next run on.
pub async fn set_failing(pool: &PgPool, fail: bool) {
    sqlx::query("UPDATE public.job_switch SET fail = $1")
        .bind(fail)
        .execute(pool)
        .await
        .expect("flip the flaky job's switch");
}

/// Makes each run sleep `seconds` before it decides.
pub async fn set_sleep(pool: &PgPool, seconds: f64) {
    sqlx::query("UPDATE public.job_switch SET sleep = $1")
        .bind(seconds)
        .execute(pool)
        .await
        .expect("set the flaky job's sleep");
}
