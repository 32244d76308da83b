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

/// A console on a fresh native-tier database `name` with its first pass and the epoch
/// in, an admin token and a viewer's session cookie: (console, URL, token, cookie).
async fn signed_in(name: &str) -> Option<(Console, String, String, String)> {
    let tier = tsdb::testing::native_tier()?;
    let database = tier.database(name).await;
    let url = database.url.clone();
    let console = Console::start_on(&url, Box::new(database), false).await;
    console.snapshot_after(None).await;
    until_epoch_known(&console).await;
    let token = console.add_token("prometheus", Role::Admin).await;
    console.add_user("ada", Role::Viewer, PASSWORD).await;
    let cookie = console.login("ada", PASSWORD).await;
    Some((console, url, token, cookie))
}

#[tokio::test]
async fn cached_credentials_cost_the_database_no_transaction_per_request() {
    let Some((console, url, token, cookie)) = signed_in("credential_cache").await else {
        return;
    };
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
    const REQUESTS: u64 = 300;
    let before = transactions().await;
    let counted = console.state.credentials.counts();
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
    let counts = console.state.credentials.counts();
    let (lookups, reads) = (
        counts.lookups - counted.lookups,
        counts.record_reads - counted.record_reads,
    );
    // Shown, not judged: PostgreSQL publishes a backend's statistics up to 10 s late when
    // it goes idle, so the set-up's own transactions can land in this window.
    let spent = transactions().await - before;
    eprintln!(
        "{REQUESTS} requests in {elapsed:?}: {lookups} credential look-ups, {reads} session \
         record reads, {spent} database transactions in all (background included)"
    );
    // Each credential is looked up again when its entry is 5 s old, or when the epoch
    // moves (a second of slack each); a look-up per request would be 300.
    let windows = elapsed.as_secs() / 5 + 2;
    assert!(
        lookups <= 2 * windows,
        "{lookups} look-ups for 300 requests in {elapsed:?}"
    );
    assert!(
        reads <= windows,
        "{reads} session record reads in {elapsed:?}"
    );
}

#[tokio::test]
async fn clients_missing_the_cache_together_cost_one_look_up_not_one_each() {
    let Some((console, _, token, cookie)) = signed_in("credential_stampede").await else {
        return;
    };
    // Neither the token nor the session has been checked since the sign-in (a POST, which
    // empties the cache): every one of these requests misses at the same moment, as 50
    // load-test clients do each time an entry expires.
    const CLIENTS: u64 = 200;
    let before = console.state.credentials.counts();
    let calls: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let call = if i % 2 == 0 {
                console.request("GET", "/api/v1/me").bearer(&token)
            } else {
                console.request("GET", "/api/v1/me").cookie(&cookie)
            };
            tokio::spawn(call.send())
        })
        .collect();
    for call in calls {
        let reply = call.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let after = console.state.credentials.counts();
    let (lookups, hits, reads) = (
        after.lookups - before.lookups,
        after.hits - before.hits,
        after.record_reads - before.record_reads,
    );
    eprintln!("{CLIENTS} simultaneous requests: {lookups} credential look-ups, {hits} answered by the cache, {reads} session record reads");
    // One look-up per credential, unless the epoch moved meanwhile (then one more each).
    assert!(lookups <= 4, "{lookups} look-ups for 2 credentials");
    assert_eq!(lookups + hits, CLIENTS, "every request checked once");
    assert!(reads <= 2, "{reads} session record reads for one session");
    // The same figures reach Prometheus.
    // (The scrape's own check may add a look-up, when the token's entry expired.)
    let metrics = console
        .request("GET", "/metrics")
        .bearer(&token)
        .send()
        .await;
    let exposed = |line: &str| -> u64 {
        metrics
            .body
            .lines()
            .find_map(|l| l.strip_prefix(line))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {line} in {}", metrics.body))
    };
    let database = exposed("ms5_credential_checks_total{answered_by=\"database\"}");
    assert!((after.lookups..=after.lookups + 1).contains(&database));
    assert!(exposed("ms5_credential_checks_total{answered_by=\"cache\"}") > after.hits);
    assert_eq!(
        exposed("ms5_session_record_reads_total"),
        after.record_reads
    );
}
