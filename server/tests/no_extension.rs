//! A PostgreSQL without TimescaleDB (Debian's own): the console starts, serves, says the
//! extension is missing and how to install it, and uses several connections at once.

mod support;

use http::StatusCode;
use serde_json::Value;
use support::Console;
use tsdb::testing::Cluster;
use tsdb::types::Role;

#[tokio::test]
async fn without_timescaledb_the_console_serves_and_explains() {
    let postgres = tokio::task::spawn_blocking(Cluster::system_postgres)
        .await
        .unwrap();
    let url = postgres.url();
    let console = Console::start_on(&url, Box::new(postgres), false).await;
    let snapshot = console.snapshot_after(None).await;
    assert!(snapshot.timescaledb.is_none());
    assert!(snapshot.hypertables.is_empty());
    assert!(
        snapshot.database.server_version.starts_with("15"),
        "{:?}",
        snapshot.database
    );

    // A real server takes several connections: the pool is not limited to one.
    let pool = console.pool();
    let (a, b) = tokio::join!(
        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()").fetch_one(&pool),
        async {
            let mut held = pool.acquire().await.unwrap();
            sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
                .fetch_one(&mut *held)
                .await
        }
    );
    let _ = (a.unwrap(), b.unwrap());
    assert!(pool.options().get_max_connections() > 1);

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
    assert_eq!(doc["installed"], false);
    assert_eq!(doc["supported"], false);
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .contains("TimescaleDB is not installed"),
        "{doc}"
    );
    let reply = console
        .request("GET", "/metrics")
        .bearer(&admin)
        .send()
        .await;
    assert!(
        reply.body.contains("ms5_timescaledb_up 0"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("ms5_database_up 1"), "{}", reply.body);

    // The pages say what is wrong and how to fix it.
    console
        .add_user("ada", Role::Admin, "correct horse battery staple")
        .await;
    let cookie = console.login("ada", "correct horse battery staple").await;
    let page = console.request("GET", "/").cookie(&cookie).send().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("TimescaleDB is not installed"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("CREATE EXTENSION timescaledb"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No hypertables yet"), "{}", page.body);
}
