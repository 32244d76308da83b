//! Signing in and out for real: session id cycling, cookie attributes, ending sessions
//! from elsewhere, immediate role changes, the last admin, throttling with equal answers
//! for unknown accounts, and API tokens from creation to revocation, all audited.

mod support;

use http::StatusCode;
use std::time::{Duration, Instant};
use support::Console;
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";

async fn me(console: &Console, cookie: &str) -> StatusCode {
    console
        .request("GET", "/api/v1/me")
        .cookie(cookie)
        .send()
        .await
        .status
}

async fn audit_actions(console: &Console, actor: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT action, outcome FROM console.audit_log WHERE actor_name = $1 ORDER BY id",
    )
    .bind(actor)
    .fetch_all(&console.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn sessions_cycle_at_login_end_at_logout_and_follow_account_changes() {
    let console = Console::start(false).await;
    let alice = console.add_user("alice", Role::Admin, PASSWORD).await;
    let bob = console.add_user("bob", Role::Viewer, PASSWORD).await;

    let login = console
        .request("POST", "/api/fn/login")
        .form(&[
            ("username", "ALICE"),
            ("password", PASSWORD),
            ("next", "//evil.example"),
        ])
        .send()
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.body, r#""/""#, "foreign next paths are dropped");
    let header = login.set_cookie().unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=1800",
    ] {
        assert!(header.contains(attribute), "{attribute} missing: {header}");
    }
    let first = login.session_cookie().unwrap();
    assert_eq!(me(&console, &first).await, StatusCode::OK);

    // Signing in again from the same browser gets a new id; the old one is worthless.
    let again = console
        .request("POST", "/api/fn/login")
        .cookie(&first)
        .form(&[("username", "alice"), ("password", PASSWORD)])
        .send()
        .await;
    let second = again.session_cookie().unwrap();
    assert_ne!(first, second, "session id cycled at login");
    assert_eq!(me(&console, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&console, &second).await, StatusCode::OK);

    // Ending a session from another browser signs it out there.
    let laptop = console.login("alice", PASSWORD).await;
    // Signed in, the sign-in page says so and offers the way on, not a second sign-in.
    let page = console
        .request("GET", "/login?next=/jobs")
        .cookie(&laptop)
        .send()
        .await;
    assert!(page.body.contains("already-signed-in"), "{}", page.body);
    assert!(page.body.contains("Continue to /jobs"), "{}", page.body);
    assert!(
        page.body.contains("Sign in as someone else"),
        "{}",
        page.body
    );
    let anonymous = console.request("GET", "/login").send().await;
    assert!(anonymous.body.contains("login-form"), "{}", anonymous.body);
    let sessions = console
        .request("POST", "/api/fn/my-sessions")
        .cookie(&second)
        .send()
        .await;
    let sessions: Vec<tsdb::access_types::SessionSummary> =
        serde_json::from_str(&sessions.body).unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    let other = sessions.iter().find(|s| !s.current).unwrap();
    let ended = console
        .request("POST", "/api/fn/end-session")
        .cookie(&second)
        .form(&[("id", &other.id.to_string())])
        .send()
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(me(&console, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&console, &second).await, StatusCode::OK);

    // Role changes apply at the next request; disabling signs the user out.
    let bob_cookie = console.login("bob", PASSWORD).await;
    let console = &console;
    let users = |cookie: String| async move {
        console
            .request("POST", "/api/fn/users")
            .cookie(&cookie)
            .send()
            .await
            .status
    };
    assert_eq!(users(bob_cookie.clone()).await, StatusCode::FORBIDDEN);
    let promote = console
        .request("POST", "/api/fn/update-user")
        .cookie(&second)
        .form(&[("id", &bob.to_string()), ("role", "admin")])
        .send()
        .await;
    assert_eq!(promote.status, StatusCode::OK, "{}", promote.body);
    assert_eq!(users(bob_cookie.clone()).await, StatusCode::OK);
    let disable = console
        .request("POST", "/api/fn/update-user")
        .cookie(&second)
        .form(&[("id", &bob.to_string()), ("disabled", "true")])
        .send()
        .await;
    assert_eq!(disable.status, StatusCode::OK, "{}", disable.body);
    assert_eq!(me(console, &bob_cookie).await, StatusCode::UNAUTHORIZED);
    let refused = console
        .request("POST", "/api/fn/login")
        .form(&[("username", "bob"), ("password", PASSWORD)])
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("AccountDisabled"), "{}", refused.body);

    // The last enabled admin cannot be demoted or disabled.
    for field in [("role", "viewer"), ("disabled", "true")] {
        let last = console
            .request("POST", "/api/fn/update-user")
            .cookie(&second)
            .form(&[("id", &alice.to_string()), field])
            .send()
            .await;
        assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.body);
        assert!(last.body.contains("last enabled admin"), "{}", last.body);
    }

    // Changing one's password keeps this session and ends the others.
    let phone = console.login("alice", PASSWORD).await;
    let changed = console
        .request("POST", "/api/fn/change-password")
        .cookie(&second)
        .form(&[
            ("current", PASSWORD),
            ("new_password", "a different long passphrase"),
            ("confirm", "a different long passphrase"),
        ])
        .send()
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body, "1");
    assert_eq!(me(console, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(console, &second).await, StatusCode::OK);

    // Logout ends the session and clears the cookie.
    let logout = console
        .request("POST", "/api/fn/logout")
        .cookie(&second)
        .send()
        .await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.body);
    let cleared = logout.set_cookie().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(me(console, &second).await, StatusCode::UNAUTHORIZED);

    let actions = audit_actions(console, "alice").await;
    let has =
        |action: &str, outcome: &str| actions.iter().any(|(a, o)| a == action && o == outcome);
    for (action, outcome) in [
        ("login", "success"),
        ("session.end", "success"),
        ("user.update", "success"),
        ("user.password_change", "success"),
        ("logout", "success"),
    ] {
        assert!(
            has(action, outcome),
            "{action}/{outcome} not in {actions:?}"
        );
    }
    assert!(audit_actions(console, "bob")
        .await
        .iter()
        .any(|(a, o)| a == "login" && o == "denied"));
}

#[tokio::test]
async fn failed_logins_back_off_and_unknown_accounts_answer_alike() {
    let console = Console::start(false).await;
    console.add_user("carol", Role::Operator, PASSWORD).await;
    let attempt = |username: &'static str, password: &'static str, addr: u8| {
        let call = console
            .request("POST", "/api/fn/login")
            .form(&[("username", username), ("password", password)])
            .client_at([198, 51, 100, addr]);
        async move {
            let started = Instant::now();
            let reply = call.send().await;
            (reply, started.elapsed())
        }
    };
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..4u8 {
        let (reply, took) = attempt("carol", "wrong password!", i).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        wrong.push((reply.body, took));
        let (reply, took) = attempt("nobody-here", "wrong password!", 100 + i).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        unknown.push((reply.body, took));
    }
    assert!(
        wrong
            .iter()
            .chain(&unknown)
            .all(|(body, _)| body == r#""BadCredentials""#),
        "same answer for unknown accounts: {wrong:?} {unknown:?}"
    );
    // The fastest answer of each kind: the least disturbed by other tests on the CPU.
    let fastest = |samples: &[(String, Duration)]| samples.iter().map(|(_, t)| *t).min().unwrap();
    let (wrong_ms, unknown_ms) = (fastest(&wrong), fastest(&unknown));
    println!("fastest login answer: wrong password {wrong_ms:?}, unknown account {unknown_ms:?}");
    // Without the decoy hash an unknown account answers in a few milliseconds instead of
    // an Argon2 verification's tens.
    assert!(
        unknown_ms * 2 > wrong_ms,
        "unknown accounts answer faster: {unknown_ms:?} vs {wrong_ms:?}"
    );

    // The fifth failure starts the back-off; then even the right password waits.
    let (reply, _) = attempt("carol", "wrong password!", 9).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    let (reply, _) = attempt("carol", PASSWORD, 10).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("Throttled"), "{}", reply.body);
    // The answer says when to come back.
    let retry: i64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (reply, _) = attempt("carol", PASSWORD, 11).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "back-off over: {}",
        reply.body
    );

    // Addresses are counted too: twenty failures from one address, any names.
    for i in 0..20 {
        let name: &'static str = Box::leak(format!("spray-{i}").into_boxed_str());
        attempt(name, "wrong password!", 77).await;
    }
    let (reply, _) = attempt("carol", PASSWORD, 77).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    let denied: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console.audit_log WHERE action = 'login' AND outcome = 'denied'",
    )
    .fetch_one(&console.pool())
    .await
    .unwrap();
    assert!(denied >= 2, "throttled attempts are audited");
}

#[tokio::test]
async fn an_admin_creates_uses_and_revokes_a_token() {
    let console = Console::start(false).await;
    console.add_user("dora", Role::Admin, PASSWORD).await;
    let cookie = console.login("dora", PASSWORD).await;
    let created = console
        .request("POST", "/api/fn/create-token")
        .cookie(&cookie)
        .form(&[("name", "prometheus"), ("role", "viewer"), ("days", "30")])
        .send()
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created: tsdb::access_types::CreatedToken = serde_json::from_str(&created.body).unwrap();
    assert!(created.secret.starts_with(&created.token.prefix));

    let reply = console
        .request("GET", "/api/v1/me")
        .bearer(&created.secret)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        r#"{"name":"prometheus","role":"viewer","is_token":true}"#
    );
    // A viewer token cannot manage users.
    let reply = console
        .request("POST", "/api/fn/users")
        .bearer(&created.secret)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    for (days, role) in [
        ("0", "viewer"),
        ("731", "viewer"),
        ("x", "viewer"),
        ("30", "root"),
    ] {
        let bad = console
            .request("POST", "/api/fn/create-token")
            .cookie(&cookie)
            .form(&[("name", "bad"), ("role", role), ("days", days)])
            .send()
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    }

    let revoked = console
        .request("POST", "/api/fn/revoke-token")
        .cookie(&cookie)
        .form(&[("id", &created.token.id.to_string())])
        .send()
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let reply = console
        .request("GET", "/api/v1/me")
        .bearer(&created.secret)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("invalid_token"), "{}", reply.body);

    let trail = console
        .request("POST", "/api/fn/audit-log")
        .cookie(&cookie)
        .form(&[("query[action]", "token.")])
        .send()
        .await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    let trail: tsdb::access_types::AuditPage = serde_json::from_str(&trail.body).unwrap();
    let actions: Vec<&str> = trail.records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["token.revoke", "token.create"], "{trail:?}");
    assert!(trail.records.iter().all(|r| r.actor_name == "dora"));
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let console = Console::start(false).await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8192, 1, 1, None).unwrap(),
    )
    .hash_password(
        PASSWORD.as_bytes(),
        &SaltString::generate(&mut password_hash::rand_core::OsRng),
    )
    .unwrap()
    .to_string();
    tsdb::users::create(
        &console.pool(),
        &tsdb::audit::Actor::System,
        None,
        tsdb::users::NewUser {
            username: "old-timer",
            role: Role::Viewer,
            password_hash: &weak,
        },
    )
    .await
    .unwrap();
    assert!(app::auth::password::needs_rehash(&weak));
    console.login("old-timer", PASSWORD).await;
    let stored = tsdb::users::find_by_username(&console.pool(), "old-timer")
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert_ne!(stored, weak);
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(app::auth::password::verify(PASSWORD, &stored));
    console.login("old-timer", PASSWORD).await;
}
