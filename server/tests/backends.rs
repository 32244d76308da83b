//! The console on each kind of server it meets: devdb and the native tier run the same
//! code, with only what the connect-time probe found deciding the difference (pool size,
//! job scheduler); a server that offers TimescaleDB without preloading it is served and
//! explained instead of killing the migrations.

mod support;

use http::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{production_settings, Console};
use tsdb::testing::{cluster_settings, native_tiers, preload_free_cluster, DevDb};
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";

/// A production start: no demo data and no demo accounts, the MS5.0 tables created as
/// empty hypertables, health ok.
async fn production_start(console: Console) -> Console {
    let pool = console.pool();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM console.users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 0, "production creates no accounts");
    // A hypertable without chunks holds no rows.
    let chunks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM timescaledb_information.chunks
          WHERE hypertable_schema = 'factory_telemetry'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(chunks, 0, "the MS5.0 tables hold no demo rows");
    let snapshot = console.snapshot_after(None).await;
    let hypertables: Vec<String> = snapshot.hypertables.iter().map(|h| h.qualified()).collect();
    // The five MS5.0 tables and the console's own storage history.
    assert_eq!(hypertables.len(), 6, "{hypertables:?}");
    assert!(snapshot.chunks.is_empty());
    let reply = console
        .request("GET", "/api/v1/monitoring/health")
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, r#"{"status":"ok","reasons":[]}"#)
    );
    console
}

#[tokio::test]
async fn a_production_start_on_devdb_loads_nothing_and_uses_one_connection() {
    let devdb = tokio::task::spawn_blocking(DevDb::start).await.unwrap();
    let url = devdb.url();
    let console =
        production_start(Console::start_with(production_settings(&url), Box::new(devdb)).await)
            .await;
    let capabilities = console.state.capabilities().unwrap();
    assert!(!capabilities.has_job_scheduler());
    assert_eq!(console.pool().options().get_max_connections(), 1);
}

#[tokio::test]
async fn a_production_start_on_the_native_tier_loads_nothing_and_uses_a_real_pool() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        // A bare database, as a new deployment has: the console creates the extension.
        let database = tier.bare_database("production_start").await;
        let url = database.url.clone();
        let console = production_start(
            Console::start_with(production_settings(&url), Box::new(database)).await,
        )
        .await;
        let capabilities = console.state.capabilities().unwrap();
        assert!(capabilities.has_job_scheduler(), "{capabilities:?}");
        // Where an admin creating it by hand would have put it, not in the console's schema.
        let schema: String = sqlx::query_scalar(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'timescaledb'",
        )
        .fetch_one(&console.pool())
        .await
        .unwrap();
        assert_eq!(schema, "public");
        assert_eq!(console.pool().options().get_max_connections(), 10);
        // The scheduler's own jobs are listed like any other.
        let snapshot = console.snapshot_after(None).await;
        assert!(
            snapshot
                .jobs
                .iter()
                .any(|j| j.kind == "policy_refresh_continuous_aggregate"),
            "{:?}",
            snapshot.jobs
        );
    }
}

#[tokio::test]
async fn timescaledb_offered_but_not_preloaded_is_served_and_explained() {
    let Some(cluster) = tokio::task::spawn_blocking(preload_free_cluster)
        .await
        .unwrap()
    else {
        return;
    };
    let url = cluster.url();
    let cluster = Arc::new(Mutex::new(cluster));
    // Migrations must not end the connection with "must be preloaded": start-up
    // finishes (Console asserts it) with TimescaleDB's migrations deferred.
    let console = Console::start_on(&url, Box::new(cluster.clone()), false).await;
    let capabilities = console.state.capabilities().unwrap();
    assert!(capabilities.needs_preload(), "{capabilities:?}");
    let pool = console.pool();
    let factory: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'factory_telemetry')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!factory, "the deferred migrations left nothing half-made");
    let deferred: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console._sqlx_migrations WHERE description ILIKE '%timescaledb%'
            OR description IN ('factory telemetry', 'metric hist hourly')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        deferred, 0,
        "deferred migrations are not recorded as applied"
    );
    let snapshot = console.snapshot_after(None).await;
    assert!(snapshot.timescaledb.is_none());

    let reply = console
        .request("GET", "/api/v1/monitoring/health")
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            StatusCode::OK,
            r#"{"status":"degraded","reasons":["timescaledb_unusable"]}"#
        )
    );
    let admin = console.add_token("ops", Role::Admin).await;
    let reply = console
        .request("GET", "/api/v1/monitoring/health/timescaledb")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let doc: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(doc["supported"], false);
    assert_eq!(doc["job_scheduler"], false);
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.contains("not preloaded")
            && message.contains("shared_preload_libraries = 'timescaledb'"),
        "{doc}"
    );

    // The console's own tables exist: an admin signs in and the overview says what to do.
    console.add_user("ada", Role::Admin, PASSWORD).await;
    let cookie = console.login("ada", PASSWORD).await;
    let page = console.request("GET", "/").cookie(&cookie).send().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("not preloaded"), "{}", page.body);
    assert!(
        page.body.contains("shared_preload_libraries"),
        "{}",
        page.body
    );

    // The admin follows the advice; the console finishes its set-up by itself.
    tokio::task::spawn_blocking(move || {
        let mut cluster = cluster.lock().unwrap();
        cluster.restart_with(&cluster_settings(true))
    })
    .await
    .unwrap()
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while console
        .state
        .capabilities()
        .is_none_or(|c| c.require_timescaledb().is_err())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "preload not noticed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The pass under way may have started before the change: the next ones see it.
    let mut snapshot = console.snapshot_after(Some(snapshot.taken_at)).await;
    while snapshot.timescaledb.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot with TimescaleDB"
        );
        snapshot = console.snapshot_after(Some(snapshot.taken_at)).await;
    }
    let names: Vec<String> = snapshot.hypertables.iter().map(|h| h.qualified()).collect();
    assert!(
        names.contains(&"factory_telemetry.metric_hist".to_string()),
        "the deferred migrations ran: {names:?}"
    );
    let reply = console
        .request("GET", "/api/v1/monitoring/health")
        .send()
        .await;
    assert_eq!(reply.body, r#"{"status":"ok","reasons":[]}"#);
}

#[tokio::test]
async fn a_background_task_that_keeps_failing_degrades_health_and_says_why() {
    let console = Console::start(false).await;
    let (_stop, stopped) = server::shutdown::channel();
    tokio::spawn(server::tasks::supervise(
        "exploding-task",
        server::tasks::Lifetime::UntilShutdown,
        console.state.clone(),
        stopped,
        |_, _| async { panic!("NaiveDateTime + TimeDelta overflowed") },
    ));
    console.snapshot_after(None).await;
    let board = console.state.tasks.clone();
    for _ in 0..100 {
        if !board.troubled(chrono::Utc::now()).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let reply = console
        .request("GET", "/api/v1/monitoring/health")
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            StatusCode::OK,
            r#"{"status":"degraded","reasons":["background_task_failing"]}"#
        )
    );
    let admin = console.add_token("ops", Role::Admin).await;
    let reply = console
        .request("GET", "/api/v1/monitoring/health/database")
        .bearer(&admin)
        .send()
        .await;
    let doc: Value = serde_json::from_str(&reply.body).unwrap();
    let tasks = doc["background_tasks"].as_array().unwrap();
    let exploding = tasks
        .iter()
        .find(|t| t["name"] == "exploding-task")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(exploding["state"], "restarting", "{doc}");
    assert_eq!(
        exploding["last_error"],
        "panicked: NaiveDateTime + TimeDelta overflowed"
    );
    // The refresher beside it is unaffected.
    assert!(
        tasks
            .iter()
            .any(|t| t["name"] == "monitoring-refresher" && t["state"] == "running"),
        "{doc}"
    );

    console.add_user("ada", Role::Admin, PASSWORD).await;
    let cookie = console.login("ada", PASSWORD).await;
    let page = console.request("GET", "/").cookie(&cookie).send().await;
    assert!(
        page.body.contains("Background task exploding-task"),
        "{}",
        page.body
    );
    assert!(page.body.contains("TimeDelta overflowed"), "{}", page.body);
}
