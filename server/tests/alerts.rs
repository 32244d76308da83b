//! Failure escalation end to end, on the native tier (a real scheduler): a user-defined
//! job that raises is run by TimescaleDB, the watcher raises an alert (banner, health,
//! metrics), the webhook reaches a receiver on loopback that fails the first attempt and
//! gets the retry, the job is fixed and the alert clears with a "resolved" message. Also
//! the jobs server functions with real sessions: run now and pause/resume change
//! TimescaleDB's own job; a viewer is refused. On devdb: the pages say jobs run only by
//! hand, and run now works without a scheduler.

mod support;

use axum::extract::State;
use axum::routing::post;
use http::StatusCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{settings_with, Console};
use tsdb::testing::flaky_job;
use tsdb::types::Role;

/// What the receiver got: when, and the JSON.
type Received = Arc<Mutex<Vec<(Instant, serde_json::Value, u16)>>>;

/// A webhook receiver on loopback that answers 500 to its first request, 200 after.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook/secret-path",
            post(
                |State(received): State<Received>,
                 axum::Json(body): axum::Json<serde_json::Value>| async move {
                    let mut all = received.lock().unwrap();
                    let status = if all.is_empty() { 500 } else { 200 };
                    all.push((Instant::now(), body, status));
                    StatusCode::from_u16(status).unwrap()
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook/secret-path"), received)
}

/// Starts the job watcher and webhook sender as `serve` does.
fn start_alerting(
    console: &Console,
    settings: &server::config::Settings,
) -> tokio::sync::watch::Sender<bool> {
    let (stop, stopped) = server::shutdown::channel();
    let watch = server::commands::serve::watch_settings(settings);
    tokio::spawn(server::tasks::supervise(
        "job-watcher",
        server::tasks::Lifetime::UntilShutdown,
        console.state.clone(),
        stopped.clone(),
        move |state, stopped| server::tasks::job_watcher::run(state, watch, stopped),
    ));
    let webhook = server::tasks::webhook_sender::Webhook::from_settings(&settings.jobs);
    tokio::spawn(server::tasks::supervise(
        "webhook-sender",
        server::tasks::Lifetime::UntilShutdown,
        console.state.clone(),
        stopped,
        move |state, stopped| server::tasks::webhook_sender::run(state, webhook.clone(), stopped),
    ));
    stop
}

async fn wait_for(what: &str, limit: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn events(received: &Received) -> Vec<(String, u16)> {
    received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body, status)| (body["event"].as_str().unwrap_or("").to_string(), *status))
        .collect()
}

#[tokio::test]
async fn a_failing_job_raises_an_alert_posts_the_webhook_and_clears_when_fixed() {
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.bare_database("alerts").await;
        let (hook, received) = receiver().await;
        let settings = settings_with(
            Some(&database.url),
            false,
            &[
                ("MS5_ALERT_WEBHOOK_URL", &hook),
                ("MS5_ALERT_CHECK_SECONDS", "1"),
            ],
        );
        let console = Console::start_with(settings.clone(), Box::new(database)).await;
        let _alerting = start_alerting(&console, &settings);
        let pool = console.pool();
        let job = flaky_job::create(&pool, "2 seconds", "0 seconds").await;

        // The scheduler fails the job by itself; the alert follows.
        wait_for("an open alert", Duration::from_secs(60), || {
            !console.state.alerts.open().is_empty()
        })
        .await;
        let alerted_at = Instant::now();
        let alert = console.state.alerts.open()[0].clone();
        assert_eq!(alert.job_id, i64::from(job));
        assert_eq!(
            alert.message,
            "last scheduled run failed [P0001]: sensor table missing"
        );
        let (failed_at, raised_after): (chrono::DateTime<chrono::Utc>, f64) = sqlx::query_as(
            "SELECT min(finish_time), extract(epoch FROM $2 - min(finish_time))::float8
               FROM timescaledb_information.job_errors WHERE job_id = $1",
        )
        .bind(job)
        .bind(alert.raised_at)
        .fetch_one(&pool)
        .await
        .unwrap();

        // The banner, health and metrics say so.
        let viewer = console
            .add_user("vera", Role::Viewer, "correct horse battery")
            .await;
        let _ = viewer;
        let cookie = console.login("vera", "correct horse battery").await;
        let page = console.request("GET", "/").cookie(&cookie).send().await;
        assert!(
            page.body.contains("1 job alert not acknowledged"),
            "{}",
            page.body
        );
        let health = console
            .request("GET", "/api/v1/monitoring/health")
            .send()
            .await;
        assert!(health.body.contains("degraded"), "{}", health.body);
        let metrics = console
            .request("GET", "/metrics")
            .cookie(&cookie)
            .send()
            .await;
        assert!(
            metrics.body.contains("ms5_alerts_open{kind=\"failing\"} 1"),
            "{}",
            metrics.body
        );
        assert!(
            metrics
                .body
                .contains(&format!("ms5_job_alert{{job_id=\"{job}\",kind=\"failing\"")),
            "{}",
            metrics.body
        );

        // REST: ops tools read the same alert; an operator's token acknowledges it once.
        let reader = console.add_token("grafana", Role::Viewer).await;
        let listed = console
            .request("GET", "/api/v1/alerts")
            .bearer(&reader)
            .send()
            .await;
        let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
        assert_eq!(listed["open"][0]["job_id"], job, "{listed}");
        assert_eq!(
            listed["webhook"],
            format!(
                "http://{}/…",
                hook.trim_start_matches("http://")
                    .split('/')
                    .next()
                    .unwrap()
            )
        );
        let pager = console.add_token("pager", Role::Operator).await;
        let path = format!("/api/v1/alerts/acknowledge?id={}", alert.id);
        let refused = console.request("POST", &path).bearer(&reader).send().await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let acknowledged = console.request("POST", &path).bearer(&pager).send().await;
        assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.body);
        assert!(
            acknowledged.body.contains("\"acknowledged_by\":\"pager\""),
            "{}",
            acknowledged.body
        );
        let twice = console.request("POST", &path).bearer(&pager).send().await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
        // Taken: the red banner gives way to a quiet line naming who took it.
        let page = console.request("GET", "/").cookie(&cookie).send().await;
        assert!(
            !page.body.contains("data-testid=\"alert-banner\""),
            "{}",
            page.body
        );
        assert!(
            page.body.contains(
                "1 open job alert, acknowledged by pager: it clears when the job succeeds again."
            ),
            "{}",
            page.body
        );

        // The receiver refuses the first attempt; the retry (2 s later) is delivered.
        wait_for("the webhook retry", Duration::from_secs(30), || {
            events(&received).contains(&("raised".to_string(), 200))
        })
        .await;
        let delivered_at = received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, _, s)| *s == 200)
            .unwrap()
            .0;
        let first = received.lock().unwrap()[0].clone();
        assert_eq!((first.1["event"].as_str(), first.2), (Some("raised"), 500));
        assert_eq!(
            first.1["text"],
            format!("ALERT: job {job} (check_sensors) is failing: last scheduled run failed [P0001]: sensor table missing")
        );
        println!(
            "failure at {failed_at}: alert raised {raised_after:.2} s after it; webhook delivered (after one refused attempt) {:.2} s after the alert",
            delivered_at.duration_since(alerted_at).as_secs_f64()
        );

        // A retry under way is not a fix: while the scheduler runs the job again (the engine
        // then reads "no finish, not successful"), the alert stays open.
        flaky_job::set_sleep(&pool, 3.0).await;
        let started = Instant::now();
        loop {
            let running: bool = sqlx::query_scalar(
                "SELECT COALESCE(bool_or(last_finish = '-infinity'), false)
                   FROM _timescaledb_internal.bgw_job_stat WHERE job_id = $1",
            )
            .bind(job)
            .fetch_one(&pool)
            .await
            .unwrap();
            if running {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no retry started"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let watched = Instant::now();
        while watched.elapsed() < Duration::from_millis(2500) {
            assert!(
                !console.state.alerts.open().is_empty(),
                "the alert cleared while a retry ran"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        flaky_job::set_sleep(&pool, 0.0).await;

        // Fixed: the next scheduled run succeeds, the alert clears, "resolved" is posted.
        flaky_job::set_failing(&pool, false).await;
        wait_for("the alert to clear", Duration::from_secs(60), || {
            console.state.alerts.open().is_empty()
        })
        .await;
        wait_for("the resolved message", Duration::from_secs(30), || {
            events(&received).contains(&("resolved".to_string(), 200))
        })
        .await;
        let resolved = received.lock().unwrap().last().unwrap().1.clone();
        assert_eq!(
            resolved["text"],
            format!("RESOLVED: job {job} (check_sensors) is no longer failing")
        );
        assert!(resolved["alert"]["cleared_at"].is_string(), "{resolved}");
        let health = console
            .request("GET", "/api/v1/monitoring/health")
            .send()
            .await;
        assert!(!health.body.contains("degraded"), "{}", health.body);
        assert_eq!(
            events(&received),
            [
                ("raised".to_string(), 500),
                ("raised".to_string(), 200),
                ("resolved".to_string(), 200)
            ],
            "one message per change, none repeated"
        );
    }
}

/// Calls a server function with a session; the status and the body.
async fn call(
    console: &Console,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let reply = console.call_fn(cookie, path, form).await;
    (reply.status, reply.body)
}

/// Run now, pause and resume through the server functions, and what each role may do.
async fn operate(console: &Console, job: i32) {
    console
        .add_user("otto", Role::Operator, "correct horse battery")
        .await;
    console
        .add_user("vera", Role::Viewer, "correct horse battery")
        .await;
    let otto = console.login("otto", "correct horse battery").await;
    let vera = console.login("vera", "correct horse battery").await;
    let id = job.to_string();

    let (status, body) = call(console, &otto, "/api/fn/run-job", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let run: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(run["succeeded"], false, "{body}");
    assert_eq!(run["sqlstate"], "P0001");
    assert_eq!(run["source"], "console");

    let (status, body) = call(console, &otto, "/api/fn/run-job", &[("id", "abc")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("job id: expected a positive whole number"),
        "{body}"
    );
    let (status, _) = call(console, &vera, "/api/fn/run-job", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = call(
        console,
        &otto,
        "/api/fn/set-job-scheduled",
        &[("id", &id), ("scheduled", "false")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!console.job_scheduled(job).await);
    let (status, _) = call(
        console,
        &vera,
        "/api/fn/set-job-scheduled",
        &[("id", &id), ("scheduled", "true")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        !console.job_scheduled(job).await,
        "the viewer changed nothing"
    );
    let (status, _) = call(
        console,
        &otto,
        "/api/fn/set-job-scheduled",
        &[("id", &id), ("scheduled", "true")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(console.job_scheduled(job).await);
    // Rescheduling is for admins.
    let (status, _) = call(
        console,
        &otto,
        "/api/fn/set-job-schedule",
        &[("id", &id), ("schedule_interval", "2 hours")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The viewer reads the job's page: the console's run, no action buttons.
    let page = console
        .request("GET", &format!("/jobs/{job}"))
        .cookie(&vera)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-source=\"console\""),
        "{}",
        page.body
    );
    // A viewer reads that it failed and its SQLSTATE, not the error text (which may hold
    // what the job's author never meant for every reader); the operator reads it.
    assert!(!page.body.contains("sensor table missing"), "{}", page.body);
    assert!(
        page.body.contains(app::visibility::ERROR_HIDDEN),
        "{}",
        page.body
    );
    assert!(page.body.contains("Read-only"), "{}", page.body);
    assert!(!page.body.contains("data-testid=\"run-now\""));
    let page = console
        .request("GET", &format!("/jobs/{job}"))
        .cookie(&otto)
        .send()
        .await;
    assert!(page.body.contains("sensor table missing"), "{}", page.body);
    assert!(
        page.body.contains("data-testid=\"run-now\""),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn operators_run_pause_and_resume_jobs_on_the_native_tier() {
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.bare_database("jobs_fns").await;
        let console = Console::start_with(
            settings_with(Some(&database.url), false, &[]),
            Box::new(database),
        )
        .await;
        let job = flaky_job::create(&console.pool(), "1 day", "1 day").await;
        operate(&console, job).await;
    }
}

#[tokio::test]
async fn without_a_scheduler_the_pages_say_so_and_run_now_works() {
    let console = Console::start(false).await;
    let job = flaky_job::create(&console.pool(), "1 hour", "1 day").await;
    operate(&console, job).await;
    let admin = console.login("vera", "correct horse battery").await;
    let page = console.request("GET", "/jobs").cookie(&admin).send().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("no job scheduler"), "{}", page.body);
    assert!(
        page.body.contains(&format!("data-job=\"{job}\"")),
        "{}",
        page.body
    );
}
