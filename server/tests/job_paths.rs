//! Jobs addressed in the path (`/api/v1/jobs/{id}`, `/{id}/run`, `/pause`, `/resume`)
//! beside their first forms with `?job_id=`: the same answers and the same guard, hostile
//! ids refused naming the parameter, a fixed path never read as an id, and every change
//! checked in the database.

mod support;

use http::StatusCode;
use serde_json::Value;
use support::Console;
use tsdb::types::Role;

#[tokio::test]
async fn jobs_in_the_path_answer_as_their_first_forms_and_refuse_hostile_ids() {
    let console = Console::start(true).await;
    // The start-up apply gives the demo's tables their policy jobs.
    console.apply_policies_at_startup().await;
    let pool = console.pool();
    let job: i32 = sqlx::query_scalar(
        "SELECT min(job_id) FROM timescaledb_information.jobs
          WHERE hypertable_schema = 'factory_telemetry'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let viewer = console.add_token("board", Role::Viewer).await;
    let operator = console.add_token("ops", Role::Operator).await;

    // One job: the same document under both addresses.
    let by_path = console
        .request("GET", &format!("/api/v1/jobs/{job}"))
        .bearer(&viewer)
        .send()
        .await;
    assert_eq!(by_path.status, StatusCode::OK, "{}", by_path.body);
    let by_query = console
        .request("GET", &format!("/api/v1/jobs/runs?job_id={job}"))
        .bearer(&viewer)
        .send()
        .await;
    let path_doc: Value = serde_json::from_str(&by_path.body).unwrap();
    let query_doc: Value = serde_json::from_str(&by_query.body).unwrap();
    assert_eq!(path_doc["job"]["id"], job);
    assert_eq!(path_doc["job"], query_doc["job"]);

    // The guard: nobody, then a viewer, may not pause; nothing changed.
    let pause = format!("/api/v1/jobs/{job}/pause");
    let anonymous = console.request("POST", &pause).send().await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    let refused = console.request("POST", &pause).bearer(&viewer).send().await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(console.job_scheduled(job).await);

    // An operator pauses twice at once: both succeed, the job is paused once.
    let (first, second) = tokio::join!(
        console.request("POST", &pause).bearer(&operator).send(),
        console.request("POST", &pause).bearer(&operator).send()
    );
    assert_eq!(first.status, StatusCode::NO_CONTENT, "{}", first.body);
    assert_eq!(second.status, StatusCode::NO_CONTENT, "{}", second.body);
    assert!(!console.job_scheduled(job).await, "paused through the path");
    let resumed = console
        .request("POST", &format!("/api/v1/jobs/{job}/resume"))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(resumed.status, StatusCode::NO_CONTENT, "{}", resumed.body);
    assert!(console.job_scheduled(job).await, "resumed through the path");

    // Hostile ids: each refused as invalid_parameter naming `id`, nothing changed.
    for raw in [
        "0",
        "-1",
        "abc",
        "1.5",
        "2147483648",
        "99999999999999999999",
        "%00",
        "1%00",
        "%0A",
        "%E2%80%AE1",
        "1%2F2",
        "%22%3B%20DROP%20TABLE%20x",
    ] {
        let reply = console
            .request("POST", &format!("/api/v1/jobs/{raw}/pause"))
            .bearer(&operator)
            .send()
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{raw}: {}",
            reply.body
        );
        let error: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(error["error"]["code"], "invalid_parameter", "{raw}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("id: expected a positive whole number"),
            "{raw}: {message}"
        );
    }
    assert!(console.job_scheduled(job).await);
    let unknown = console
        .request("POST", "/api/v1/jobs/2147483647/pause")
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    // A fixed path is never an id: GET /api/v1/jobs/run is not job "run".
    let wrong_method = console
        .request("GET", "/api/v1/jobs/run")
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method
            .headers
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );

    // The first form still answers, and its refusal names its own parameter.
    let old = console
        .request("POST", "/api/v1/jobs/pause?job_id=abc")
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST);
    assert!(
        old.body
            .contains("job_id: expected a positive whole number"),
        "{}",
        old.body
    );
}
