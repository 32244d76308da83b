//! The sign-in throttle under concurrent guessing (native tier: several connections, so the
//! guesses really overlap): checking and counting are one step, so twenty simultaneous
//! wrong passwords get no more "wrong password" answers than the free failures allow; and a
//! successful sign-in clears its address's count as well as its account's.

mod support;

use http::StatusCode;
use support::Console;
use tsdb::testing::native_tiers;
use tsdb::types::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_cannot_overshoot_the_throttle() {
    for tier in native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("throttle").await;
        let url = database.url.clone();
        let console = Console::start_on(&url, Box::new(database), false).await;
        console
            .add_user("target", Role::Viewer, "the right password 1")
            .await;
        let guesses = (0..20u8).map(|i| {
            let password = format!("wrong guess {i}");
            let call = console
                .request("POST", "/api/fn/login")
                .form(&[("username", "target"), ("password", password.as_str())])
                .client_at([198, 51, 100, i + 1]);
            call.send()
        });
        let replies = futures_util::future::join_all(guesses).await;
        let wrong = replies
            .iter()
            .filter(|r| r.status == StatusCode::UNAUTHORIZED)
            .count();
        let throttled = replies
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count();
        // Five failures are free for an account; the fifth already answers "throttled".
        assert_eq!(
            (wrong, throttled),
            (4, 16),
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        // And only those five reached the password check: the others were turned away before
        // it (checking first and counting after let every guess in flight be tried).
        let tried: i32 = sqlx::query_scalar(
            "SELECT failures FROM console.login_throttle WHERE scope = 'account' AND key = 'target'",
        )
        .fetch_one(&console.pool())
        .await
        .unwrap();
        assert_eq!(tried, 5);

        // An address's count is cleared by a success from it, not only the account's.
        console
            .add_user("typist", Role::Viewer, "the right password 2")
            .await;
        for _ in 0..3 {
            let reply = console
                .request("POST", "/api/fn/login")
                .form(&[("username", "typist"), ("password", "typo")])
                .client_at([203, 0, 113, 5])
                .send()
                .await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        }
        let reply = console
            .request("POST", "/api/fn/login")
            .form(&[("username", "typist"), ("password", "the right password 2")])
            .client_at([203, 0, 113, 5])
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM console.login_throttle WHERE key IN ('typist', '203.0.113.5')",
        )
        .fetch_one(&console.pool())
        .await
        .unwrap();
        assert_eq!(left, 0);
    }
}
