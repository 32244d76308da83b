//! Every route, for every kind of caller: the table-driven authorization test. Server
//! functions are enumerated from the registry the server itself serves, pages from the
//! app's route list, REST routes from the API's declarations; a route missing from the access
//! table, or one that lets the wrong caller through, fails here.

mod support;

use app::auth::access::{self, Access};
use http::StatusCode;
use support::Console;
use tsdb::types::Role;

/// Who calls: nobody, a signed-in user, or an API token, with a role.
#[derive(Debug, Clone)]
enum Caller {
    Anonymous,
    Session(Role, String),
    Token(Role, String),
}

impl Caller {
    fn role(&self) -> Option<Role> {
        match self {
            Caller::Anonymous => None,
            Caller::Session(role, _) | Caller::Token(role, _) => Some(*role),
        }
    }

    fn apply(&self, call: support::Call) -> support::Call {
        match self {
            Caller::Anonymous => call,
            Caller::Session(_, cookie) => call.cookie(cookie),
            Caller::Token(_, token) => call.bearer(token),
        }
    }
}

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn every_route_enforces_its_access_for_every_caller() {
    let console = Console::start(false).await;
    let mut callers = vec![Caller::Anonymous];
    for role in Role::ALL {
        let name = format!("walk-{role}");
        console.add_user(&name, role, PASSWORD).await;
        callers.push(Caller::Session(role, console.login(&name, PASSWORD).await));
        callers.push(Caller::Token(
            role,
            console.add_token(&format!("walk-{role}"), role).await,
        ));
    }

    // The access table and the served server functions are the same set.
    let served: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    for path in &served {
        assert!(
            access::server_fn_access(path).is_some(),
            "server function {path} has no access rule"
        );
    }
    for (path, _) in access::SERVER_FNS {
        assert!(
            served.iter().any(|s| s == path),
            "access rule for {path}, which is not served"
        );
    }

    let mut checked = 0;
    for (path, required) in access::SERVER_FNS {
        for caller in &callers {
            // Signing in and out changes the callers themselves; they have their own tests.
            if matches!(*path, "/api/fn/logout" | "/api/fn/login") {
                continue;
            }
            let reply = caller.apply(console.request("POST", path)).send().await;
            let expected = expected_status(*required, caller.role());
            assert_outcome(&format!("POST {path} as {caller:?}"), expected, &reply);
            checked += 1;
        }
    }
    for server::api::route::Rule {
        method,
        path,
        access: required,
    } in server::api::rules()
    {
        for caller in &callers {
            let reply = caller
                .apply(console.request(method.as_str(), path))
                .send()
                .await;
            let expected = expected_status(*required, caller.role());
            assert_outcome(&format!("{method} {path} as {caller:?}"), expected, &reply);
            if let Some(status) = expected {
                assert!(
                    reply.body.starts_with(r#"{"error":{"code":"#),
                    "REST refusals are JSON: {}",
                    reply.body
                );
                assert_eq!(reply.status, status);
            }
            checked += 1;
        }
    }
    // Parameters get real values: the demo tables exist after the migrations.
    let pages = support::page_paths(&console).await;
    assert!(pages.len() >= 6, "{pages:?}");
    for path in &pages {
        let path = path.as_str();
        for caller in &callers {
            let reply = caller.apply(console.request("GET", path)).send().await;
            let what = format!("GET {path} as {caller:?}");
            match (access::page_access(path), caller.role()) {
                (Access::Public, _) => assert_eq!(reply.status, StatusCode::OK, "{what}"),
                (Access::Role(_), None) => {
                    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{what}");
                    let location = reply.headers.get("location").unwrap().to_str().unwrap();
                    assert_eq!(location, format!("/login?next={path}"), "{what}");
                }
                (Access::Role(required), Some(held)) if !held.includes(required) => {
                    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
                    assert!(reply.body.contains("Not allowed"), "{what}: {}", reply.body);
                }
                (Access::Role(_), Some(_)) => {
                    assert_eq!(reply.status, StatusCode::OK, "{what}");
                    assert!(!reply.body.contains("Not allowed"), "{what}");
                }
            }
            checked += 1;
        }
    }
    println!("checked {checked} route × caller combinations");

    // Closed by default: unknown server functions and REST paths are not reachable.
    let admin = &callers[5];
    let reply = admin
        .apply(console.request("POST", "/api/fn/no-such"))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = admin
        .apply(console.request("GET", "/api/v1/no-such"))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains(r#""code":"not_found""#));
}

/// `Some(401 or 403)` when the caller must be refused, `None` when it must get through.
fn expected_status(required: Access, held: Option<Role>) -> Option<StatusCode> {
    match (required, held) {
        (Access::Public, _) => None,
        (Access::Role(_), None) => Some(StatusCode::UNAUTHORIZED),
        (Access::Role(required), Some(held)) if !held.includes(required) => {
            Some(StatusCode::FORBIDDEN)
        }
        (Access::Role(_), Some(_)) => None,
    }
}

fn assert_outcome(what: &str, expected: Option<StatusCode>, reply: &support::Reply) {
    match expected {
        Some(status) => assert_eq!(reply.status, status, "{what}: {}", reply.body),
        None => assert!(
            reply.status != StatusCode::UNAUTHORIZED && reply.status != StatusCode::FORBIDDEN,
            "{what} was refused: {} {}",
            reply.status,
            reply.body
        ),
    }
}

#[tokio::test]
async fn cross_site_writes_are_refused_and_tokens_need_no_origin() {
    let console = Console::start(false).await;
    console.add_user("csrf-admin", Role::Admin, PASSWORD).await;
    let cookie = console.login("csrf-admin", PASSWORD).await;
    for (header, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("referer", "http://evil.example/page"),
    ] {
        let reply = console
            .request("POST", "/api/fn/users")
            .without("origin")
            .header(header, value)
            .cookie(&cookie)
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{header}: {value}");
        assert!(reply.body.contains("CrossSite"), "{}", reply.body);
    }
    let reply = console
        .request("POST", "/api/fn/users")
        .without("origin")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "no Origin nor Referer");
    let reply = console
        .request("POST", "/api/fn/users")
        .without("origin")
        .header("referer", "http://console.test/admin/users")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "same-site Referer: {}",
        reply.body
    );

    // Without a cookie there is nothing to forge: a REST write is just unauthenticated.
    let reply = console
        .request("POST", "/api/v1/monitoring/refresh")
        .without("origin")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let reply = console
        .request("POST", "/api/v1/monitoring/refresh")
        .without("origin")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "with a cookie: cross-site"
    );
    let token = console.add_token("script", Role::Admin).await;
    let reply = console
        .request("POST", "/api/fn/users")
        .without("origin")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = console
        .request("GET", "/api/v1/me")
        .bearer("ms5_not-a-real-token-at-all-000000000000000000")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(
        reply.body.contains(r#""code":"invalid_token""#),
        "{}",
        reply.body
    );
}

/// Credentials that were good once: every protected route must refuse them as if they
/// had never existed, and at the very next request after the change.
#[tokio::test]
async fn dead_credentials_open_nothing() {
    let console = Console::start(false).await;
    let pool = console.pool();
    let expired = console.add_token("expired", Role::Admin).await;
    sqlx::query(
        "UPDATE console.api_tokens SET created_at = now() - interval '2 days',
                expires_at = now() - interval '1 minute' WHERE name = 'expired'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let revoked = console.add_token("revoked", Role::Admin).await;
    sqlx::query("UPDATE console.api_tokens SET revoked_at = now() WHERE name = 'revoked'")
        .execute(&pool)
        .await
        .unwrap();
    // Disabled behind the console's back (no session clean-up): the session itself must
    // be judged by its account at every request.
    console.add_user("disabled", Role::Admin, PASSWORD).await;
    let disabled = console.login("disabled", PASSWORD).await;
    sqlx::query("UPDATE console.users SET disabled = true WHERE username = 'disabled'")
        .execute(&pool)
        .await
        .unwrap();
    console.add_user("signed-out", Role::Admin, PASSWORD).await;
    let signed_out = console.login("signed-out", PASSWORD).await;
    let reply = console
        .request("POST", "/api/fn/logout")
        .cookie(&signed_out)
        .send()
        .await;
    assert!(reply.status.is_success() || reply.status.is_redirection());
    let callers = [
        ("expired token", Caller::Token(Role::Admin, expired)),
        ("revoked token", Caller::Token(Role::Admin, revoked)),
        (
            "disabled user's session",
            Caller::Session(Role::Admin, disabled),
        ),
        (
            "signed-out session",
            Caller::Session(Role::Admin, signed_out),
        ),
    ];
    let mut checked = 0;
    for (label, caller) in &callers {
        for (path, required) in access::SERVER_FNS {
            if *required == Access::Public {
                continue;
            }
            let reply = caller.apply(console.request("POST", path)).send().await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "POST {path} with a {label}: {}",
                reply.body
            );
            checked += 1;
        }
        for rule in server::api::rules() {
            if rule.access == Access::Public {
                continue;
            }
            let reply = caller
                .apply(console.request(rule.method.as_str(), &rule.path))
                .send()
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{} {} with a {label}: {}",
                rule.method,
                rule.path,
                reply.body
            );
            checked += 1;
        }
        for path in support::page_paths(&console).await {
            if access::page_access(&path) == Access::Public {
                continue;
            }
            let reply = caller.apply(console.request("GET", &path)).send().await;
            assert!(
                matches!(
                    reply.status,
                    StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED
                ),
                "GET {path} with a {label}: {} {}",
                reply.status,
                reply.body.chars().take(200).collect::<String>()
            );
            checked += 1;
        }
    }
    println!("refused {checked} route × dead-credential combinations");
}
