//! Verified credentials are kept for a few seconds (`app::auth::cache`): requests then
//! cost the database nothing to learn who is asking, and yet a change to credentials
//! applies at the next request when made through this console and within about a second
//! when made anywhere else (the credentials epoch the database watch reads).

mod support;

use http::StatusCode;
use std::time::{Duration, Instant};
use support::Console;
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";

/// Polls `status` until it is 401; how long that took.
async fn until_refused(console: &Console, call: impl Fn() -> support::Call) -> Duration {
    let started = Instant::now();
    loop {
        let reply = call().send().await;
        if reply.status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still accepted 20 s after the change"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = console;
    }
}

/// The epoch the console knows, once the watch has read it.
async fn until_epoch_known(console: &Console) {
    for _ in 0..200 {
        if console.state.credentials.epoch().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the database watch never read the credentials epoch");
}

#[tokio::test]
async fn changes_made_behind_the_consoles_back_apply_within_about_a_second() {
    let console = Console::start(false).await;
    until_epoch_known(&console).await;
    let pool = console.pool();
    let token = console.add_token("script", Role::Admin).await;
    console.add_user("ada", Role::Admin, PASSWORD).await;
    let cookie = console.login("ada", PASSWORD).await;
    let by_token = || console.request("GET", "/api/v1/me").bearer(&token);
    let by_session = || console.request("GET", "/api/v1/me").cookie(&cookie);
    // Used, so both are cached now.
    for _ in 0..3 {
        assert_eq!(by_token().send().await.status, StatusCode::OK);
        assert_eq!(by_session().send().await.status, StatusCode::OK);
    }
    let before = console.state.credentials.epoch();
    sqlx::query("UPDATE console.api_tokens SET revoked_at = now() WHERE name = 'script'")
        .execute(&pool)
        .await
        .unwrap();
    let token_after = until_refused(&console, by_token).await;
    assert_ne!(
        console.state.credentials.epoch(),
        before,
        "the trigger moved the epoch"
    );
    sqlx::query("UPDATE console.users SET disabled = true WHERE username = 'ada'")
        .execute(&pool)
        .await
        .unwrap();
    let session_after = until_refused(&console, by_session).await;
    eprintln!(
        "refused {token_after:?} (token) and {session_after:?} (session) after the change in SQL"
    );
    // The bound the README states: the watch reads the epoch every second.
    for after in [token_after, session_after] {
        assert!(after < Duration::from_secs(3), "{after:?}");
    }
}

#[tokio::test]
async fn changes_made_through_the_console_apply_at_the_next_request() {
    let console = Console::start(false).await;
    until_epoch_known(&console).await;
    console.add_user("root", Role::Admin, PASSWORD).await;
    let admin = console.login("root", PASSWORD).await;
    let bob = console.add_user("bob", Role::Admin, PASSWORD).await;
    let bob_cookie = console.login("bob", PASSWORD).await;
    let token = console.add_token("script", Role::Admin).await;
    let token_id: i64 =
        sqlx::query_scalar("SELECT id FROM console.api_tokens WHERE name = 'script'")
            .fetch_one(&console.pool())
            .await
            .unwrap();
    let bob_reads = || async {
        let reply = console
            .request("GET", "/api/v1/policies")
            .cookie(&bob_cookie)
            .send()
            .await;
        (reply.status, reply.body)
    };
    let token_reads = || async {
        console
            .request("GET", "/api/v1/me")
            .bearer(&token)
            .send()
            .await
            .status
    };
    for _ in 0..3 {
        assert_eq!(bob_reads().await.0, StatusCode::OK);
        assert_eq!(token_reads().await, StatusCode::OK);
    }
    // Bob becomes a viewer: his very next admin call is refused.
    let reply = console
        .request("POST", "/api/fn/update-user")
        .cookie(&admin)
        .form(&[
            ("id", &bob.to_string()),
            ("role", "viewer"),
            ("disabled", "false"),
        ])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let (status, body) = bob_reads().await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The token is revoked: its very next call is refused.
    let reply = console
        .request("POST", "/api/fn/revoke-token")
        .cookie(&admin)
        .form(&[("id", &token_id.to_string())])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(token_reads().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cached_credentials_cost_the_database_no_transaction_per_request() {
    let Some(tier) = tsdb::testing::native_tier() else {
        return;
    };
    let database = tier.database("credential_cache").await;
    let url = database.url.clone();
    let console = Console::start_on(&url, Box::new(database), false).await;
    console.snapshot_after(None).await;
    until_epoch_known(&console).await;
    let token = console.add_token("prometheus", Role::Admin).await;
    console.add_user("ada", Role::Viewer, PASSWORD).await;
    let cookie = console.login("ada", PASSWORD).await;
    let observer = tsdb::testing::connect(&url).await;
    let transactions = || async {
        // The statistics of other sessions reach the view within a second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        sqlx::query_scalar::<_, i64>(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&observer)
        .await
        .unwrap()
    };
    const REQUESTS: i64 = 300;
    let before = transactions().await;
    let started = Instant::now();
    for i in 0..REQUESTS {
        let call = if i % 2 == 0 {
            console
                .request("GET", "/api/v1/monitoring/metrics/hypertables")
                .bearer(&token)
        } else {
            console.request("GET", "/api/v1/me").cookie(&cookie)
        };
        let reply = call.send().await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let elapsed = started.elapsed();
    let spent = transactions().await - before;
    // The watch (two statements a second), the refresher's passes and the observer's own
    // reads go on meanwhile; with a check per request there would be 300 more.
    eprintln!("{REQUESTS} requests in {elapsed:?}: {spent} database transactions in all");
    let background_allowance = 40 + 10 * (elapsed.as_secs() as i64 + 3);
    assert!(
        spent < background_allowance.min(REQUESTS / 2),
        "{spent} transactions for {REQUESTS} requests in {elapsed:?}"
    );
}
