//! Hostile input the first round let through (issue #15), each refused now: a `next`
//! that browsers turn into another site, sign-in names no account can have (huge or with
//! a NUL byte) stored in the throttle table and the audit trail, NUL bytes in audit
//! filters answered with a 500, and pages whose address has a dot treated as public files.

mod support;

use http::StatusCode;
use support::Console;
use tsdb::types::Role;

#[tokio::test]
async fn hostile_sign_ins_addresses_and_filters_are_refused_with_a_clear_answer() {
    let console = Console::start(false).await;
    let pool = console.pool();
    console
        .add_user("erin", Role::Admin, "a long enough password")
        .await;

    // Browsers drop the tab: "/\t/evil.example" would lead to //evil.example.
    let reply = console
        .request("POST", "/api/fn/login")
        .form(&[
            ("username", "erin"),
            ("password", "a long enough password"),
            ("next", "/\t/evil.example"),
        ])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, r#""/""#);
    let cookie = reply.session_cookie().unwrap();

    // Names no account can have: refused before the throttle table and the audit trail.
    let huge = "x".repeat(200_000);
    for name in [huge.as_str(), "ad\u{0}min", &"y".repeat(8_000)] {
        let reply = console
            .request("POST", "/api/fn/login")
            .form(&[("username", name), ("password", "whatever it is")])
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(
            reply.body.contains("username: at most 63 characters"),
            "{}",
            reply.body
        );
    }
    let stored: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM console.login_throttle WHERE length(key) > 63)
              + (SELECT count(*) FROM console.audit_log WHERE length(actor_name) > 63)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    // A NUL byte in an audit filter is a 400 naming the field, not a 500.
    let reply = console
        .request("POST", "/api/fn/audit-log")
        .cookie(&cookie)
        .form(&[("query[actor]", "ad\u{0}min")])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("actor: at most 200"), "{}", reply.body);

    // A page address with a dot is a page: signed out, it leads to the sign-in.
    let reply = console
        .request("GET", "/hypertables/public/alarms.x")
        .send()
        .await;
    assert!(
        reply.status.is_redirection(),
        "{} {}",
        reply.status,
        reply.body
    );
    assert!(reply.headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next="));
    // The site's own files stay public.
    let reply = console.request("GET", "/favicon.svg").send().await;
    assert_ne!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(!reply.status.is_redirection());
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let console = Console::start(false).await;
    let token = console.add_token("viewer", Role::Viewer).await;
    let replies = [
        console.request("GET", "/login").send().await,
        console.request("GET", "/").send().await,
        console
            .request("GET", "/api/v1/monitoring/health")
            .send()
            .await,
        console
            .request("GET", "/api/v1/jobs")
            .bearer(&token)
            .send()
            .await,
        console.request("GET", "/api/v1/jobs").send().await,
        console.request("POST", "/api/fn/current-user").send().await,
        console.request("GET", "/no/such/page").send().await,
    ];
    for reply in &replies {
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{}",
            reply.status
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("referrer-policy"), "same-origin");
        // The test console has Secure cookies, as production does.
        assert_eq!(header("strict-transport-security"), "max-age=31536000");
        assert!(header("content-security-policy").contains("script-src 'self'"));
    }
    // A page's inline scripts run only with the nonce its own policy names, and the nonce
    // changes with every response.
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = console.request("GET", "/login").send().await;
        let policy = page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("no nonce in {policy}"))
            .to_string();
        let inline = page.body.matches("<script>").count()
            + page.body.matches("<script type=\"module\">").count();
        assert_eq!(inline, 0, "an inline script without a nonce: {}", page.body);
        assert!(
            page.body.contains(&format!("nonce=\"{nonce}\"")),
            "{}",
            page.body
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);
}

#[tokio::test]
async fn forwarding_headers_count_only_from_a_trusted_proxy() {
    let mut console = Console::start(false).await;
    let pool = console.pool();
    console
        .add_user("erin", Role::Admin, "a long enough password")
        .await;
    let sign_in = |console: &Console, password: &str| {
        console
            .request("POST", "/api/fn/login")
            .form(&[("username", "erin"), ("password", password)])
    };
    let throttled_keys = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT key FROM console.login_throttle WHERE scope = 'address' ORDER BY key",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };

    // No trusted proxy: a forged host, scheme or client address changes nothing.
    let forged_host = sign_in(&console, "a long enough password")
        .header("x-forwarded-host", "evil.example")
        .header("origin", "http://evil.example")
        .send()
        .await;
    assert_eq!(
        forged_host.status,
        StatusCode::FORBIDDEN,
        "{}",
        forged_host.body
    );
    assert!(
        forged_host.body.contains("CrossSite"),
        "{}",
        forged_host.body
    );
    let https_origin = sign_in(&console, "a long enough password")
        .header("origin", "https://console.test")
        .send()
        .await;
    assert_eq!(
        https_origin.status,
        StatusCode::FORBIDDEN,
        "an https page is another site for a plain-http console"
    );
    let wrong = sign_in(&console, "wrong password")
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(throttled_keys().await, ["192.0.2.1"], "the peer is counted");

    // Behind a trusted TLS proxy: the public host and scheme, the client's own address.
    console.change_state(|state| {
        state.trusted_proxies =
            std::sync::Arc::new(app::auth::proxy::TrustedProxies::parse("192.0.2.0/24").unwrap());
    });
    let proxied = |console: &Console, password: &str| {
        sign_in(console, password)
            .header("host", "10.0.0.5:3000")
            .header("x-forwarded-host", "console.example")
            .header("x-forwarded-proto", "https")
            .header("origin", "https://console.example")
    };
    let wrong = proxied(&console, "wrong password")
        .header("x-forwarded-for", "203.0.113.99, 198.51.100.7")
        .send()
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    assert_eq!(
        throttled_keys().await,
        ["192.0.2.1", "198.51.100.7"],
        "the nearest address the proxy saw is counted, not the forged left-most one"
    );
    let right = proxied(&console, "a long enough password")
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    let audited: Option<String> = sqlx::query_scalar(
        "SELECT client_addr FROM console.audit_log WHERE action = 'login' AND outcome = 'success'",
    )
    .fetch_optional(&pool)
    .await
    .unwrap();
    assert_eq!(audited.as_deref(), Some("198.51.100.7"));
}

#[tokio::test]
async fn error_pages_answer_with_their_status() {
    let console = Console::start(true).await;
    let snapshot = console.snapshot_after(None).await;
    console
        .add_user("erin", Role::Admin, "a long enough password")
        .await;
    let cookie = console.login("erin", "a long enough password").await;
    let job = format!("/jobs/{}", snapshot.jobs.first().expect("demo jobs").id);
    for (path, status) in [
        (job.as_str(), StatusCode::OK),
        ("/jobs/999999", StatusCode::NOT_FOUND),
        ("/jobs/seven", StatusCode::BAD_REQUEST),
        ("/policies/factory_telemetry/metric_hist", StatusCode::OK),
        (
            "/policies/factory_telemetry/no_such_table",
            StatusCode::NOT_FOUND,
        ),
        ("/hypertables/factory_telemetry/metric_hist", StatusCode::OK),
        (
            "/hypertables/factory_telemetry/no_such_table",
            StatusCode::NOT_FOUND,
        ),
        ("/hypertables/public/alarms.x", StatusCode::NOT_FOUND),
        ("/hypertables/nope/nope/advisor", StatusCode::NOT_FOUND),
        ("/chunks?limit=50", StatusCode::OK),
        ("/chunks?limit=0", StatusCode::BAD_REQUEST),
        ("/chunks?from=yesterday", StatusCode::BAD_REQUEST),
        ("/chunks?hypertable=metric_hist", StatusCode::BAD_REQUEST),
    ] {
        let reply = console.request("GET", path).cookie(&cookie).send().await;
        assert_eq!(reply.status, status, "{path}");
    }
}
