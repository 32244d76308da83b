//! A database outage under a running console (native tier: a private cluster stopped and
//! started again): health says `down` within 5 s, every request answers at once with
//! "database unavailable" instead of waiting, a write attempted meanwhile is refused and
//! leaves no trace, and the console comes back by itself within 5 s of the database,
//! with its versions probed again. The measured times are printed.

mod support;

use http::StatusCode;
use std::time::{Duration, Instant};
use support::Console;
use tsdb::testing::{cluster_settings, private_native_cluster};
use tsdb::types::Role;

/// Polls `check` every 50 ms until it holds; the time it took, or a failure after `bound`.
async fn time_until<F, Fut>(bound: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a request and times it.
async fn timed(call: support::Call) -> (support::Reply, Duration) {
    let start = Instant::now();
    let reply = call.send().await;
    (reply, start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_rides_out_a_database_outage() {
    let Some(mut cluster) = tokio::task::spawn_blocking(private_native_cluster)
        .await
        .unwrap()
    else {
        return;
    };
    let console = Console::start_on(&cluster.url(), Box::new(()), false).await;
    console.snapshot_after(None).await;
    console
        .add_user("ada", Role::Admin, "correct horse battery")
        .await;
    let cookie = console.login("ada", "correct horse battery").await;
    let token = console.add_token("outage", Role::Admin).await;
    let health = || async {
        console
            .request("GET", "/api/v1/monitoring/health")
            .send()
            .await
            .status
    };
    assert_eq!(health().await, StatusCode::OK);
    let real = console.state.capabilities().expect("probed");

    tokio::task::block_in_place(|| cluster.stop());
    let noticed = time_until(Duration::from_secs(5), "health says down", || async {
        health().await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;

    // Every kind of caller gets an answer at once, and the same clear one.
    let (page, page_time) = timed(console.request("GET", "/").cookie(&cookie)).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("database-down"), "{}", page.body);
    let (rest, rest_time) = timed(
        console
            .request("GET", "/api/v1/monitoring/metrics/hypertables")
            .bearer(&token),
    )
    .await;
    assert_eq!(
        rest.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        rest.body
    );
    assert!(rest.body.contains("database_unavailable"), "{}", rest.body);
    let (sign_in, sign_in_time) = timed(
        console
            .request("POST", "/api/fn/login")
            .form(&[("username", "ada"), ("password", "correct horse battery")]),
    )
    .await;
    assert_eq!(
        sign_in.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        sign_in.body
    );
    let (write, write_time) = timed(
        console
            .request("POST", "/api/fn/create-user")
            .cookie(&cookie)
            .form(&[
                ("username", "grace"),
                ("role", "viewer"),
                ("password", "another long password"),
            ]),
    )
    .await;
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        write.body
    );
    for (what, time) in [
        ("page", page_time),
        ("REST", rest_time),
        ("sign-in", sign_in_time),
        ("write", write_time),
    ] {
        assert!(time < Duration::from_secs(1), "{what} took {time:?}");
    }

    // As if an extension update came with the restart: the console must not keep
    // serving with what it probed before.
    let mut stale = real.clone();
    stale.timescaledb_reported = Some("2.13.0".into());
    console.state.set_capabilities(stale);

    tokio::task::block_in_place(|| cluster.start_again(&cluster_settings(true))).unwrap();
    let back = time_until(Duration::from_secs(5), "REST answers again", || async {
        console
            .request("GET", "/api/v1/monitoring/metrics/hypertables")
            .bearer(&token)
            .send()
            .await
            .status
            == StatusCode::OK
    })
    .await;
    assert_ne!(health().await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        console.state.capabilities(),
        Some(real),
        "the versions are probed again when the database returns"
    );
    let page = console.request("GET", "/").cookie(&cookie).send().await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the session survived the outage"
    );

    // The refused write left nothing behind: no account, no audit row.
    let pool = console.pool();
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM console.users WHERE username = 'grace'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console.audit_log WHERE concat(object_id, after::text, detail) LIKE '%grace%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((users, audit), (0, 0));
    println!(
        "OUTAGE: health down after {noticed:?}; during the outage page {page_time:?}, REST {rest_time:?}, \
         sign-in {sign_in_time:?}, write {write_time:?}; REST answering {back:?} after the database accepted connections"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_reconnects_after_devdb_crashes() {
    let devdb = tokio::task::spawn_blocking(tsdb::testing::DevDb::start)
        .await
        .unwrap();
    let url = devdb.url();
    let devdb = std::sync::Arc::new(std::sync::Mutex::new(devdb));
    let console = Console::start_on(&url, Box::new(devdb.clone()), false).await;
    console.snapshot_after(None).await;
    let token = console.add_token("crash", Role::Admin).await;
    let metrics = || async {
        console
            .request("GET", "/api/v1/monitoring/metrics/hypertables")
            .bearer(&token)
            .send()
            .await
            .status
    };
    assert_eq!(metrics().await, StatusCode::OK);
    tokio::task::block_in_place(|| devdb.lock().unwrap().crash_and_restart());
    let back = time_until(Duration::from_secs(5), "REST answers again", || async {
        metrics().await == StatusCode::OK
    })
    .await;
    println!("OUTAGE devdb: REST answering {back:?} after devdb restarted");
}
