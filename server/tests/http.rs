//! The HTTP application against a real devdb: health, server functions, pages, errors.

use app::state::AppState;
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use support::{settings, Console};
use tower::ServiceExt;
use tsdb::types::Role;

mod support;

async fn call(state: &AppState, method: &str, uri: &str) -> (StatusCode, String) {
    let response = server::http::router(state.clone())
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .header("host", "console.test")
                .header("origin", "http://console.test")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn without_a_database_health_is_down_and_pages_explain() {
    let settings = settings(None, false);
    let state = AppState::new(app::state::StateConfig::defaults(
        server::commands::serve::leptos_options(
            &settings,
            &server::site::Site::locate(None).unwrap(),
        ),
    ));
    let (status, body) = call(&state, "GET", "/api/v1/monitoring/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, r#"{"status":"down","reasons":["database_down"]}"#);

    // Without a database nobody can be signed in: protected calls are refused, and the
    // pages send the browser to the login page.
    let (status, body) = call(&state, "POST", "/api/fn/overview").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, r#""Unauthenticated""#);
    let (status, body) = call(&state, "POST", "/api/fn/login").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = call(&state, "GET", "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A browser with a session cookie is told the database is away (and retries).
    let response = server::http::router(state.clone())
        .oneshot(
            Request::builder()
                .uri("/")
                .header("host", "console.test")
                .header("cookie", "ms5_session=AAAAAAAAAAAAAAAAAAAAAA")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("Database unavailable") && html.contains("http-equiv=\"refresh\""),
        "{html}"
    );
    let (status, html) = call(&state, "GET", "/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Sign in"), "{html}");
    let (status, body) = call(&state, "POST", "/api/fn/startup-status").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#""connecting""#));

    let (status, body) = call(&state, "GET", "/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        r#"{"error":{"code":"not_found","message":"no such endpoint"}}"#
    );
}

#[tokio::test]
async fn with_devdb_the_slice_works_end_to_end() {
    let console = Console::start(true).await;
    let state = &console.state;
    let (status, body) = call(state, "GET", "/api/v1/monitoring/health").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok","reasons":[]}"#)
    );
    // Demo mode created one account of each role.
    for role in Role::ALL {
        let user = tsdb::users::find_by_username(&console.pool(), role.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.role, role);
    }
    console
        .add_user("reader", Role::Viewer, "correct horse battery staple")
        .await;
    let cookie = console
        .login("reader", "correct horse battery staple")
        .await;

    console.snapshot_after(None).await;
    let reply = console
        .request("POST", "/api/fn/hypertables")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let list: tsdb::facts::HypertableList = serde_json::from_str(&reply.body).unwrap();
    let rows = list.hypertables;
    let names: Vec<String> = rows.iter().map(|r| r.qualified()).collect();
    for expected in [
        "factory_telemetry.metric_hist",
        "factory_telemetry.energy_consumption",
        "factory_telemetry.oee_calculations",
        "factory_telemetry.production_events",
        "factory_telemetry.fault_event",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let metric = rows.iter().find(|r| r.name == "metric_hist").unwrap();
    assert!(metric.compressed_chunk_count > 0 && metric.compression_enabled);

    // The overview: totals over the same hypertables, and only the biggest few in full.
    let reply = console
        .request("POST", "/api/fn/overview")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let overview: tsdb::facts::Overview = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(overview.lists.totals.hypertables, rows.len());
    // (Bytes are compared by name: a pass may land between the two calls.)
    assert!(overview.lists.totals.total_bytes > 0);
    let biggest = rows.iter().max_by_key(|r| r.total_bytes).unwrap();
    assert_eq!(overview.lists.biggest[0].name, biggest.name);
    assert!(overview.lists.biggest.len() <= tsdb::facts::Overview::BIGGEST);

    // The page is rendered on the server with the data already in it.
    let page = console
        .request("GET", "/hypertables")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("factory_telemetry.metric_hist"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/vendor/echarts.min.js"));
    assert!(page.body.contains("reader"), "the top bar names the user");

    let page = console
        .request("GET", "/no/such/page")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));

    // A missing asset (browsers ask for /favicon.ico by themselves) gets the same page,
    // rendered for a signed-out caller without asking the database who it is.
    let asset = console.request("GET", "/favicon.ico").send().await;
    assert_eq!(asset.status, StatusCode::NOT_FOUND);
    assert!(asset.body.contains("Page not found"), "{}", asset.body);
}

#[tokio::test]
async fn health_is_served_over_a_real_socket_while_start_up_runs() {
    let settings = settings(
        Some("postgres://postgres@127.0.0.1:9/none?sslmode=disable"),
        false,
    );
    let state = AppState::new(app::state::StateConfig::defaults(
        server::commands::serve::leptos_options(
            &settings,
            &server::site::Site::locate(None).unwrap(),
        ),
    ));
    let (_stop, stopped) = server::shutdown::channel();
    // Port 9 (discard) refuses connections: start-up keeps retrying in the background.
    let startup = tokio::spawn(server::tasks::startup::run(
        state.clone(),
        settings,
        stopped,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, server::http::router(state))
            .await
            .unwrap();
    });
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            b"GET /api/v1/monitoring/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(
        response.ends_with(r#"{"status":"down","reasons":["database_down"]}"#),
        "{response}"
    );
    startup.abort();
}
