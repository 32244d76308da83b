//! The monitoring REST contract against a real devdb: every endpoint for every access
//! level, the figures against TimescaleDB's own functions, chunk filters and their
//! errors, Prometheus exposition, the OpenAPI document, and health from the last known
//! state.

mod support;

use http::StatusCode;
use serde_json::Value;
use support::Console;
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";

async fn get(console: &Console, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut call = console.request("GET", path);
    if let Some(token) = token {
        call = call.bearer(token);
    }
    let reply = call.send().await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn the_monitoring_endpoints_answer_from_the_snapshot_for_the_right_roles() {
    let console = Console::start(true).await;
    let admin = console.add_token("ops", Role::Admin).await;
    let viewer = console.add_token("manager", Role::Viewer).await;
    console.snapshot_after(None).await;

    // Access levels as the contract says.
    for (path, viewer_may) in [
        ("/api/v1/monitoring/health/database", false),
        ("/api/v1/monitoring/health/timescaledb", false),
        ("/api/v1/monitoring/metrics/hypertables", false),
        ("/api/v1/monitoring/metrics/compression", false),
        ("/api/v1/monitoring/metrics/chunks", false),
        ("/api/v1/monitoring/configuration", false),
        ("/api/v1/monitoring/status/timescaledb", true),
    ] {
        let (status, body) = get(&console, path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert!(body.contains(r#""code":"unauthenticated""#), "{body}");
        let (status, _) = get(&console, path, Some(&viewer)).await;
        let expected = if viewer_may {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, expected, "{path} as viewer");
        let (status, body) = get(&console, path, Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{path} as admin: {body}");
        serde_json::from_str::<Value>(&body).expect("JSON");
    }
    let (status, body) = get(&console, "/api/v1/monitoring/health", None).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok","reasons":[]}"#)
    );

    // Figures agree with TimescaleDB's own functions.
    let (_, body) = get(
        &console,
        "/api/v1/monitoring/metrics/hypertables",
        Some(&admin),
    )
    .await;
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert!(doc["snapshot_age_seconds"].as_f64().unwrap() >= 0.0);
    let metric = doc["hypertables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "metric_hist")
        .expect("metric_hist listed");
    let official: i64 =
        sqlx::query_scalar("SELECT hypertable_size('factory_telemetry.metric_hist')")
            .fetch_one(&console.pool())
            .await
            .unwrap();
    assert_eq!(metric["total_bytes"].as_i64(), Some(official));
    assert_eq!(metric["dimensions"][0]["column"], "ts");

    let (_, body) = get(
        &console,
        "/api/v1/monitoring/metrics/compression",
        Some(&admin),
    )
    .await;
    let doc: Value = serde_json::from_str(&body).unwrap();
    let compression = doc["hypertables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hypertable"] == "factory_telemetry.metric_hist")
        .unwrap();
    let (before, after): (i64, i64) = sqlx::query_as(
        "SELECT before_compression_total_bytes, after_compression_total_bytes
           FROM hypertable_compression_stats('factory_telemetry.metric_hist')",
    )
    .fetch_one(&console.pool())
    .await
    .unwrap();
    assert_eq!(
        compression["before_compression_bytes"].as_i64(),
        Some(before)
    );
    assert_eq!(compression["after_compression_bytes"].as_i64(), Some(after));

    // Chunks: filters, paging, sort, and errors naming the parameter.
    let (_, body) = get(
        &console,
        "/api/v1/monitoring/metrics/chunks?hypertable=factory_telemetry.metric_hist&compressed=true&sort=-total_bytes&limit=2",
        Some(&admin),
    )
    .await;
    let page: Value = serde_json::from_str(&body).unwrap();
    let compressed_chunks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM timescaledb_information.chunks
          WHERE hypertable_name = 'metric_hist' AND is_compressed",
    )
    .fetch_one(&console.pool())
    .await
    .unwrap();
    assert_eq!(page["total"].as_i64(), Some(compressed_chunks));
    let chunks = page["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 2);
    assert!(chunks[0]["total_bytes"].as_i64() >= chunks[1]["total_bytes"].as_i64());
    assert!(chunks.iter().all(|c| c["is_compressed"] == true));
    for (query, field) in [
        ("limit=0", "limit"),
        ("sort=size", "sort"),
        ("compressed=maybe", "compressed"),
        ("from=yesterday", "from"),
    ] {
        let (status, body) = get(
            &console,
            &format!("/api/v1/monitoring/metrics/chunks?{query}"),
            Some(&admin),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "invalid_parameter");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{body}"
        );
    }

    let (_, body) = get(&console, "/api/v1/monitoring/configuration", Some(&admin)).await;
    let doc: Value = serde_json::from_str(&body).unwrap();
    let url = doc["settings"]["DATABASE_URL"].as_str().unwrap();
    assert!(url.starts_with("postgres://postgres@127.0.0.1"), "{url}");
    assert_eq!(doc["settings"]["TIMESCALEDB_COMPRESSION_AFTER"], "7 days");

    let (_, body) = get(
        &console,
        "/api/v1/monitoring/status/timescaledb",
        Some(&viewer),
    )
    .await;
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert!(doc["timescaledb_version"]
        .as_str()
        .unwrap()
        .starts_with("2."));
    // The five MS5.0 tables and the console's own storage history.
    assert_eq!(doc["hypertable_count"].as_i64(), Some(6));

    // Refresh: admins only, answered at once, a new snapshot follows.
    let before = console.state.monitor.snapshot().unwrap().taken_at;
    let reply = console
        .request("POST", "/api/v1/monitoring/refresh")
        .bearer(&viewer)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = console
        .request("POST", "/api/v1/monitoring/refresh")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let fresh = console.snapshot_after(Some(before)).await;
    assert!(fresh.taken_at > before);
}

#[tokio::test]
async fn prometheus_openapi_and_health_from_the_last_known_state() {
    let console = Console::start(false).await;
    let viewer = console.add_token("prometheus", Role::Viewer).await;
    console.snapshot_after(None).await;

    let (status, _) = get(&console, "/metrics", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a token is required by default"
    );
    let reply = console
        .request("GET", "/metrics")
        .bearer(&viewer)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = reply.body;
    for expected in [
        "# TYPE ms5_hypertable_bytes gauge",
        "ms5_database_up 1",
        "ms5_timescaledb_up 1",
        "ms5_hypertable_bytes{hypertable=\"factory_telemetry.metric_hist\"}",
        "# TYPE ms5_job_failures_total counter",
        "ms5_scrape_duration_seconds ",
        "ms5_snapshot_age_seconds ",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    // Every sample line is `name{labels} value` with a number.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "bad sample: {line}");
    }

    // The OpenAPI document lists every REST route of the access table.
    let (status, body) = get(&console, "/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for server::api::route::Rule { method, path, .. } in server::api::rules() {
        if path.ends_with("openapi.json") || path.ends_with("/docs") {
            continue;
        }
        let operation = &doc["paths"][path][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let (status, html) = get(&console, "/api/v1/docs", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/api/v1/monitoring/metrics/chunks") && !html.contains("<script"));

    // Live updates: the events stream announces the next snapshot.
    let response = {
        use tower::ServiceExt;
        let request = http::Request::builder()
            .uri("/api/v1/monitoring/events")
            .header("host", "console.test")
            .header("authorization", format!("Bearer {viewer}"))
            .body(axum::body::Body::empty())
            .unwrap();
        server::http::router(console.state.clone())
            .oneshot(request)
            .await
            .unwrap()
    };
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    console.state.monitor.request_refresh();
    let mut body = response.into_body();
    let event = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        use http_body_util::BodyExt;
        let mut text = String::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
                if text.contains("event: snapshot") {
                    return text;
                }
            }
        }
        text
    })
    .await
    .expect("an event within 60 s");
    assert!(event.contains("event: snapshot\ndata: 20"), "{event}");

    // Health answers from the last known state (the database watch's verdict), without
    // asking the database. The watch's own probe may clear the mark meanwhile: only an
    // answer given while the mark stood counts.
    let mut observed = false;
    for _ in 0..5 {
        console.state.link.mark_down("connection refused".into());
        let started = std::time::Instant::now();
        let (status, body) = get(&console, "/api/v1/monitoring/health", None).await;
        if !console.state.link.is_down() {
            continue;
        }
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"status":"down","reasons":["database_down"]}"#
            )
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        observed = true;
        break;
    }
    assert!(observed, "the watch cleared the mark every time");
    console.state.link.mark_up();
    console
        .state
        .monitor
        .fail("syntax error".into(), "failed".into());
    let (status, body) = get(&console, "/api/v1/monitoring/health", None).await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::OK,
            r#"{"status":"degraded","reasons":["catalog_pass_failing"]}"#
        )
    );
}

#[tokio::test]
async fn an_operator_compresses_a_chunk_and_a_viewer_may_not() {
    operator_compresses_a_chunk(Console::start(true).await).await;
}

#[tokio::test]
async fn an_operator_compresses_a_chunk_on_the_native_tier() {
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        // Created bare: the console's start-up creates the extension and loads the demo.
        let database = tier.bare_database("compress_action").await;
        let url = database.url.clone();
        operator_compresses_a_chunk(Console::start_on(&url, Box::new(database), true).await).await;
    }
}

async fn operator_compresses_a_chunk(console: Console) {
    console.add_user("olga", Role::Operator, PASSWORD).await;
    console.add_user("vera", Role::Viewer, PASSWORD).await;
    let first = console.snapshot_after(None).await;
    let chunk = first
        .chunks
        .iter()
        .find(|c| c.hypertable_name == "metric_hist" && !c.is_compressed)
        .expect("an uncompressed demo chunk")
        .clone();
    let form = [
        ("schema", chunk.schema.as_str()),
        ("name", chunk.name.as_str()),
    ];
    let vera = console.login("vera", PASSWORD).await;
    let reply = console
        .request("POST", "/api/fn/compress-chunk")
        .cookie(&vera)
        .form(&form)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let olga = console.login("olga", PASSWORD).await;
    let reply = console
        .request("POST", "/api/fn/compress-chunk")
        .cookie(&olga)
        .form(&form)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let compressed_at = chrono::Utc::now();
    let again = console
        .request("POST", "/api/fn/compress-chunk")
        .cookie(&olga)
        .form(&form)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let missing = console
        .request("POST", "/api/fn/compress-chunk")
        .cookie(&olga)
        .form(&[
            ("schema", "_timescaledb_internal"),
            ("name", "no_such_chunk"),
        ])
        .send()
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let after = console.snapshot_started_after(compressed_at).await;
    let now = after.chunks.iter().find(|c| c.name == chunk.name).unwrap();
    assert!(now.is_compressed);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console.audit_log WHERE action = 'chunk.compress' AND actor_name = 'olga'",
    )
    .fetch_one(&console.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Decompressing (before a backfill) is the way back: operators only, audited.
    let decompress = |cookie: &str| {
        console
            .request("POST", "/api/fn/decompress-chunk")
            .cookie(cookie)
            .form(&form)
    };
    assert_eq!(decompress(&vera).send().await.status, StatusCode::FORBIDDEN);
    let reply = decompress(&olga).send().await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let decompressed_at = chrono::Utc::now();
    let again = decompress(&olga).send().await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("is not compressed"), "{}", again.body);
    let after = console.snapshot_started_after(decompressed_at).await;
    assert!(
        !after
            .chunks
            .iter()
            .find(|c| c.name == chunk.name)
            .unwrap()
            .is_compressed
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console.audit_log WHERE action = 'chunk.decompress' AND actor_name = 'olga'",
    )
    .fetch_one(&console.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);
}
