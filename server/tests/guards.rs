//! The holes found around the policy engine, each closed: viewers do not read job error
//! texts or user jobs' configuration values, and nobody reads a secret in them; operators
//! cannot pause TimescaleDB's own jobs or the console's; the alert webhook never follows
//! a redirect; a flood of compression trials leaves the pool to everyone else; inputs
//! that answered 500 are refused naming the field.

mod support;

use axum::extract::State;
use axum::routing::post;
use http::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Console;
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn viewers_read_no_error_texts_and_nobody_reads_a_secret() {
    let console = Console::start(false).await;
    let pool = console.pool();
    sqlx::raw_sql(
        "CREATE PROCEDURE public.nightly_export(job_id int, config jsonb) LANGUAGE plpgsql AS $$
         BEGIN
           RAISE EXCEPTION 'could not connect to postgres://exporter:s3cr3t-pw@warehouse/plant (password=hunter2)';
         END $$;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let job: i32 = sqlx::query_scalar(
        r#"SELECT add_job('public.nightly_export', '1 day',
                  config => '{"api_key": "k-live-123", "target": "s3://bucket/x", "dsn": "postgres://ro:pw-789@replica/plant"}')"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    console.add_user("olga", Role::Operator, PASSWORD).await;
    console.add_user("vera", Role::Viewer, PASSWORD).await;
    let olga = console.login("olga", PASSWORD).await;
    let vera = console.login("vera", PASSWORD).await;
    let reply = console
        .request("POST", "/api/fn/run-job")
        .cookie(&olga)
        .form(&[("id", &job.to_string())])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let secrets = ["s3cr3t-pw", "hunter2", "k-live-123", "pw-789"];
    let viewer_token = console.add_token("board", Role::Viewer).await;
    let operator_token = console.add_token("ops", Role::Operator).await;
    for (who, token) in [("viewer", &viewer_token), ("operator", &operator_token)] {
        for path in [
            "/api/v1/jobs".to_string(),
            format!("/api/v1/jobs/runs?job_id={job}"),
            "/api/v1/alerts".to_string(),
        ] {
            let reply = console.request("GET", &path).bearer(token).send().await;
            assert_eq!(reply.status, StatusCode::OK, "{who} {path}: {}", reply.body);
            for secret in secrets {
                assert!(
                    !reply.body.contains(secret),
                    "{who} {path} holds {secret}: {}",
                    reply.body
                );
            }
        }
    }
    let runs: Value = serde_json::from_str(
        &console
            .request("GET", &format!("/api/v1/jobs/runs?job_id={job}"))
            .bearer(&operator_token)
            .send()
            .await
            .body,
    )
    .unwrap();
    let message = runs["runs"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("postgres://exporter:•••@warehouse/plant (password=•••)"),
        "{message}"
    );
    let config: Value = serde_json::from_str(runs["job"]["config"].as_str().unwrap()).unwrap();
    assert_eq!(config["api_key"], "•••");
    assert_eq!(config["dsn"], "postgres://ro:•••@replica/plant");
    assert_eq!(config["target"], "s3://bucket/x");
    let seen: Value = serde_json::from_str(
        &console
            .request("GET", &format!("/api/v1/jobs/runs?job_id={job}"))
            .bearer(&viewer_token)
            .send()
            .await
            .body,
    )
    .unwrap();
    assert_eq!(seen["runs"][0]["message"], app::visibility::ERROR_HIDDEN);
    assert_eq!(seen["runs"][0]["sqlstate"], "P0001");
    let config: Value = serde_json::from_str(seen["job"]["config"].as_str().unwrap()).unwrap();
    assert!(config.get("target").is_some(), "the keys stay: {config}");
    assert_ne!(config["target"], "s3://bucket/x");
    // The pages say the same.
    let page = console
        .request("GET", &format!("/jobs/{job}"))
        .cookie(&vera)
        .send()
        .await;
    for secret in secrets {
        assert!(!page.body.contains(secret), "{secret}");
    }
    assert!(!page.body.contains("s3://bucket/x"));
    let page = console
        .request("GET", &format!("/jobs/{job}"))
        .cookie(&olga)
        .send()
        .await;
    assert!(page.body.contains("s3://bucket/x"));
}

#[tokio::test]
async fn timescaledbs_and_the_consoles_own_jobs_are_no_operator_controls() {
    let console = Console::start(true).await;
    // The start-up apply gives the console's history table its policies.
    console.apply_policies_at_startup().await;
    let pool = console.pool();
    let internal: i32 = sqlx::query_scalar(
        "SELECT min(job_id) FROM timescaledb_information.jobs WHERE job_id < 1000",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let own: i32 = sqlx::query_scalar(
        "SELECT job_id FROM timescaledb_information.jobs
          WHERE hypertable_schema = 'console' AND hypertable_name = 'storage_samples' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let operator = console.add_token("ops", Role::Operator).await;
    let admin = console.add_token("root", Role::Admin).await;
    for (token, job, expected) in [
        (&operator, internal, StatusCode::FORBIDDEN),
        (&admin, internal, StatusCode::FORBIDDEN),
        (&operator, own, StatusCode::FORBIDDEN),
        (&admin, own, StatusCode::NO_CONTENT),
    ] {
        let reply = console
            .request("POST", &format!("/api/v1/jobs/pause?job_id={job}"))
            .bearer(token)
            .send()
            .await;
        assert_eq!(reply.status, expected, "job {job}: {}", reply.body);
    }
    let scheduled: bool =
        sqlx::query_scalar("SELECT scheduled FROM timescaledb_information.jobs WHERE job_id = $1")
            .bind(internal)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(scheduled, "TimescaleDB's own job is still scheduled");
}

/// Requests a listener received: path and `Referer`.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn listener(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_webhook_never_follows_a_redirect() {
    // Where a redirect would lead: it must never hear from the console.
    let seen: Seen = Arc::default();
    let elsewhere = listener(
        axum::Router::new()
            .fallback(
                |State(seen): State<Seen>, request: axum::extract::Request| async move {
                    let referer = request
                        .headers()
                        .get("referer")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    seen.lock()
                        .unwrap()
                        .push((request.uri().to_string(), referer));
                    StatusCode::OK
                },
            )
            .with_state(seen.clone()),
    )
    .await;
    let target = format!("{elsewhere}/collect");
    let receiver = listener(axum::Router::new().route(
        "/hook/secret-path",
        post(move || {
            let target = target.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [("location", target)]) }
        }),
    ))
    .await;
    let hook = format!("{receiver}/hook/secret-path?token=abc");
    let devdb = tokio::task::spawn_blocking(tsdb::testing::DevDb::start)
        .await
        .unwrap();
    let settings = support::settings_with(
        Some(&devdb.url()),
        false,
        &[("MS5_ALERT_WEBHOOK_URL", &hook)],
    );
    let console = Console::start_with(settings.clone(), Box::new(devdb)).await;
    let pool = console.pool();
    let alert: i64 = sqlx::query_scalar(
        "INSERT INTO console.alerts (job_id, kind, job_kind, message)
         VALUES (1000, 'failing', 'check_sensors', 'boom') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO console.alert_notifications (alert_id, event, payload)
         VALUES ($1, 'raised', '{\"event\": \"raised\", \"text\": \"ALERT\"}')",
    )
    .bind(alert)
    .execute(&pool)
    .await
    .unwrap();
    let (_stop, stopped) = server::shutdown::channel();
    let webhook = server::tasks::webhook_sender::Webhook::from_settings(&settings.jobs);
    tokio::spawn(server::tasks::webhook_sender::run(
        console.state.clone(),
        webhook,
        stopped,
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    let error = loop {
        let error: Option<String> = sqlx::query_scalar(
            "SELECT last_error FROM console.alert_notifications WHERE alert_id = $1",
        )
        .bind(alert)
        .fetch_one(&pool)
        .await
        .unwrap();
        if let Some(error) = error {
            break error;
        }
        assert!(Instant::now() < deadline, "no delivery attempt in 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(error.contains("HTTP 307 (a redirect)"), "{error}");
    assert!(
        !error.contains("secret-path") && !error.contains("token=abc"),
        "{error}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn a_flood_of_trials_leaves_the_pool_to_everyone_else() {
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.bare_database("lanes").await;
        let url = database.url.clone();
        let console = Console::start_on(&url, Box::new(database), true).await;
        let operator = console.add_token("ops", Role::Operator).await;
        let viewer = console.add_token("board", Role::Viewer).await;
        console.snapshot_after(None).await;
        let mut trials = Vec::new();
        for _ in 0..30 {
            let call = console
                .request(
                    "POST",
                    "/api/v1/advisor/trial?hypertable=factory_telemetry.metric_hist",
                )
                .bearer(&operator);
            trials.push(tokio::spawn(async move {
                let started = Instant::now();
                let reply = call.send().await;
                (
                    reply.status,
                    reply.headers.get("retry-after").cloned(),
                    started.elapsed(),
                )
            }));
        }
        // Meanwhile a viewer reads the jobs, which needs a connection of its own.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let reply = console
            .request("GET", "/api/v1/jobs")
            .bearer(&viewer)
            .send()
            .await;
        let viewer_waited = started.elapsed();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (mut ran, mut refused) = (0, 0);
        for trial in trials {
            let (status, retry_after, took) = trial.await.unwrap();
            match status {
                StatusCode::OK => ran += 1,
                StatusCode::SERVICE_UNAVAILABLE => {
                    refused += 1;
                    assert!(retry_after.is_some(), "a refusal says when to retry");
                    assert!(
                        took < Duration::from_secs(2),
                        "refused at once, not after {took:?}"
                    );
                }
                other => panic!("trial answered {other}"),
            }
        }
        assert!(ran >= 1 && refused >= 20, "{ran} ran, {refused} refused");
        assert!(
            viewer_waited < Duration::from_secs(5),
            "the viewer waited {viewer_waited:?}"
        );
    }
}

#[tokio::test]
async fn inputs_that_answered_500_name_their_field() {
    let console = Console::start(true).await;
    console.add_user("ada", Role::Admin, PASSWORD).await;
    let ada = console.login("ada", PASSWORD).await;
    // A NUL byte in a chunk's name.
    let reply = console
        .request("POST", "/api/fn/compress-chunk")
        .cookie(&ada)
        .form(&[
            ("schema", "_timescaledb_internal"),
            ("name", "_hyper_1_1_chunk\u{0}"),
        ])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("chunk name"), "{}", reply.body);
    // A token named by a NUL byte.
    let reply = console
        .request("POST", "/api/fn/create-token")
        .cookie(&ada)
        .form(&[("name", "\u{0}"), ("role", "viewer"), ("days", "30")])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("token name"), "{}", reply.body);
    // Intervals beyond what PostgreSQL and TimescaleDB hold.
    for value in ["99999999 years", "2147483648 days"] {
        let reply = console
            .request("POST", "/api/fn/preview-policy")
            .cookie(&ada)
            .json(&serde_json::json!({
                "schema": "factory_telemetry", "table": "metric_hist",
                "form": {"retention": value, "chunk_time_interval": value}
            }))
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains("at most 100 years"), "{}", reply.body);
    }
    // "false" is no yes to a production benchmark.
    let reply = console
        .request("POST", "/api/fn/start-bench")
        .cookie(&ada)
        .form(&[
            ("runs", "1"),
            ("rows", "1000"),
            ("accept_production", "maybe"),
        ])
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("expected yes or no"), "{}", reply.body);
}
