//! Policy automation through the console: the start-up reconciler applies the demo
//! tables' policies; admins preview, save (confirming what drops data), apply and revert
//! through the server functions and their REST twins, each through the same data-loss
//! guard; operators and viewers are refused; dotted and quoted names stay apart in REST,
//! Prometheus and the audit trail; an aggregate has a policy page; the command line
//! plans, applies and reverts for scripts with the same confirmations (native tier).

mod support;

use http::StatusCode;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use support::Console;
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";

/// Runs the start-up reconciler as `serve` does and waits for its apply.
async fn reconcile(console: &Console) {
    console.apply_policies_at_startup().await;
    let last = console
        .state
        .policies
        .last()
        .expect("an apply was recorded");
    assert_eq!(last.failed, 0, "{:?}", last.failures);
}

/// A server function called with a JSON body, as the pages call them.
async fn call_json(
    console: &Console,
    cookie: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let reply = console
        .request("POST", path)
        .cookie(cookie)
        .json(&body)
        .send()
        .await;
    let value = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body.clone()));
    (reply.status, value)
}

/// A server function called with a form.
async fn call_form(
    console: &Console,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let reply = console.call_fn(cookie, path, form).await;
    let value = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body.clone()));
    (reply.status, value)
}

/// metric_hist's live retention, as TimescaleDB's own view lists it.
async fn drop_after(console: &Console) -> String {
    sqlx::query_scalar(
        "SELECT config ->> 'drop_after' FROM timescaledb_information.jobs
          WHERE proc_name = 'policy_retention' AND hypertable_name = 'metric_hist'",
    )
    .fetch_one(&console.pool())
    .await
    .unwrap()
}

fn form(fields: &[(&str, &str)]) -> Value {
    let mut form = serde_json::Map::new();
    form.insert("managed".into(), "follow".into());
    for (key, value) in fields {
        form.insert(key.to_string(), Value::String(value.to_string()));
    }
    Value::Object(form)
}

fn change(table: &str, fields: &[(&str, &str)], confirm: &[&str], accept: bool) -> Value {
    json!({
        "schema": "factory_telemetry",
        "table": table,
        "form": form(fields),
        "confirm": {"typed_names": confirm, "accept_aggregate_loss": accept},
    })
}

#[tokio::test]
async fn admins_preview_save_apply_and_revert_and_others_only_read() {
    let console = Console::start(true).await;
    reconcile(&console).await;

    // REST: desired, live and drift; in sync after the start-up apply.
    let admin_token = console.add_token("deploy", Role::Admin).await;
    let reply = console
        .request("GET", "/api/v1/policies")
        .bearer(&admin_token)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let doc: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(doc["in_sync"], true, "{doc}");
    assert_eq!(doc["hazards"], json!([]));
    let metric = doc["plan"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"]["table"] == "metric_hist")
        .unwrap()
        .clone();
    assert_eq!(metric["managed"]["by"], "pattern");
    assert_eq!(
        metric["live"]["retention_policy"]["after"]["text"],
        "90 days"
    );
    let viewer_token = console.add_token("grafana", Role::Viewer).await;
    let reply = console
        .request("GET", "/api/v1/policies")
        .bearer(&viewer_token)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    console.add_user("ada", Role::Admin, PASSWORD).await;
    console.add_user("olga", Role::Operator, PASSWORD).await;
    let ada = console.login("ada", PASSWORD).await;
    let olga = console.login("olga", PASSWORD).await;

    // Every bad field is named; nothing is saved.
    let bad = change(
        "metric_hist",
        &[
            ("retention", "90 dayz"),
            ("segment_by", "no_such_column"),
            ("chunk_time_interval", "2147483648 days"),
        ],
        &[],
        false,
    );
    let (status, preview) = call_json(&console, &ada, "/api/fn/preview-policy", bad).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let fields: Vec<&str> = preview["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["chunk_time_interval", "retention", "segment_by"],
        "{preview}"
    );

    // A retention that drops data now: the dry-run lists the chunks and what the current
    // retention drops anyway; saving needs the name.
    let shorter = [("compression_after", "2 days"), ("retention", "5 days")];
    let (_, preview) = call_json(
        &console,
        &ada,
        "/api/fn/preview-policy",
        change("metric_hist", &shorter, &[], false),
    )
    .await;
    let effect = &preview["Effect"];
    let retention = &effect["dry_run"]["retention"];
    assert!(
        !retention["chunks"].as_array().unwrap().is_empty(),
        "{preview}"
    );
    assert_eq!(retention["current"], "90 days");
    assert_eq!(
        retention["new_chunks"].as_u64(),
        Some(retention["chunks"].as_array().unwrap().len() as u64)
    );
    let hazards = effect["hazards"].as_array().unwrap();
    assert!(
        hazards.iter().any(|h| h["loss"]["kind"] == "chunks"),
        "{preview}"
    );
    let (_, saved) = call_json(
        &console,
        &ada,
        "/api/fn/save-policy",
        change("metric_hist", &shorter, &[], false),
    )
    .await;
    let message = saved["NeedsConfirmation"]["message"].as_str().unwrap();
    assert!(
        message.contains("Type the name (factory_telemetry.metric_hist) to confirm"),
        "{saved}"
    );
    let (status, _) = call_json(
        &console,
        &olga,
        "/api/fn/save-policy",
        change(
            "metric_hist",
            &shorter,
            &["factory_telemetry.metric_hist"],
            false,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The hourly aggregate refreshes 3 days back: a 5-day retention costs it nothing,
    // so the typed name alone saves.
    let (status, saved) = call_json(
        &console,
        &ada,
        "/api/fn/save-policy",
        change(
            "metric_hist",
            &shorter,
            &["factory_telemetry.metric_hist"],
            false,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let audit_id = saved["Saved"]["audit_id"].as_i64().unwrap();
    let steps = saved["Saved"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{saved}");

    // Apply: the operator may not; the admin applies this table's steps as shown,
    // confirming again what they drop.
    let (status, _) = call_json(
        &console,
        &olga,
        "/api/fn/apply-policies",
        json!({"fingerprint": null, "confirm": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, outcome) = call_json(
        &console,
        &ada,
        "/api/fn/apply-policy",
        json!({"schema": "factory_telemetry", "table": "metric_hist", "fingerprint": null, "confirm": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert!(outcome.get("NeedsConfirmation").is_some(), "{outcome}");
    assert_eq!(
        drop_after(&console).await,
        "90 days",
        "nothing ran unconfirmed"
    );
    let (status, outcome) = call_json(
        &console,
        &ada,
        "/api/fn/apply-policy",
        json!({"schema": "factory_telemetry", "table": "metric_hist", "fingerprint": null,
               "confirm": {"typed_names": ["factory_telemetry.metric_hist"]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let results = outcome["Applied"]["report"]["results"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["outcome"] == "applied"),
        "{outcome}"
    );
    assert_eq!(drop_after(&console).await, "5 days");

    // Revert from the audit trail: previewed (the way back, its fingerprint), then
    // applied as shown: back to the configured 90 days; a second revert is refused.
    let (status, preview) = call_form(
        &console,
        &ada,
        "/api/fn/preview-revert",
        &[("audit_id", &audit_id.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["reverted_by"], Value::Null);
    assert!(
        !preview["steps"].as_array().unwrap().is_empty(),
        "{preview}"
    );
    let fingerprint = preview["fingerprint"].as_str().unwrap().to_string();
    let (status, outcome) = call_json(
        &console,
        &ada,
        "/api/fn/revert-policy",
        json!({"audit_id": audit_id, "fingerprint": fingerprint, "confirm": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert!(outcome.get("Applied").is_some(), "{outcome}");
    assert_eq!(drop_after(&console).await, "90 days");
    let (status, again) = call_json(
        &console,
        &ada,
        "/api/fn/revert-policy",
        json!({"audit_id": audit_id, "fingerprint": fingerprint, "confirm": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (_, preview) = call_form(
        &console,
        &ada,
        "/api/fn/preview-revert",
        &[("audit_id", &audit_id.to_string())],
    )
    .await;
    assert!(preview["reverted_by"].as_i64().is_some(), "{preview}");
    // The audit page marks the entry as reverted instead of offering the button again.
    let trail = console
        .request("GET", "/admin/audit?action=policy.")
        .cookie(&ada)
        .send()
        .await;
    assert!(trail.body.contains("reverted by #"), "{}", trail.body);

    // The viewer reads, read-only; the pages render for both; an aggregate has a page.
    let (status, view) = call_form(&console, &olga, "/api/fn/policies", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["editable"], false);
    let page = console
        .request("GET", "/policies")
        .cookie(&ada)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("factory_telemetry.metric_hist"),
        "{}",
        page.body
    );
    let page = console
        .request("GET", "/policies/factory_telemetry/metric_hist")
        .cookie(&olga)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("read-only"), "{}", page.body);
    let page = console
        .request("GET", "/policies/factory_telemetry/metric_hist_hourly")
        .cookie(&ada)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("continuous aggregate"), "{}", page.body);
    assert!(
        page.body.contains("3 days ago to 1 hour ago"),
        "{}",
        page.body
    );
    let revert_page = console
        .request("GET", &format!("/admin/audit/{audit_id}/revert"))
        .cookie(&ada)
        .send()
        .await;
    assert_eq!(revert_page.status, StatusCode::OK);
}

#[tokio::test]
async fn rest_twins_apply_save_and_revert_only_what_was_shown_and_confirmed() {
    let console = Console::start(true).await;
    reconcile(&console).await;
    let token = console.add_token("deploy", Role::Admin).await;
    let rest = |method: &str, path: &str| console.request(method, path).bearer(&token);

    // Save a shorter retention through REST: refused with what it loses, then saved.
    let body = json!({
        "relation": "factory_telemetry.metric_hist",
        "form": {"compression_after": "2 days", "retention": "5 days"},
    });
    let reply = rest("POST", "/api/v1/policies/save")
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    let error: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(error["error"]["code"], "confirmation_required");
    assert_eq!(
        error["error"]["details"]["hazards"][0]["relation"]["table"],
        "metric_hist"
    );
    let mut confirmed = body.clone();
    confirmed["confirm"] = json!(["factory_telemetry.metric_hist"]);
    let reply = rest("POST", "/api/v1/policies/save")
        .json(&confirmed)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let audit_id = serde_json::from_str::<Value>(&reply.body).unwrap()["Saved"]["audit_id"]
        .as_i64()
        .unwrap();

    // The plan read shows its hazards and fingerprint; an apply without the name is a
    // 409 with them, and so is one with a stale fingerprint; nothing runs.
    let doc: Value =
        serde_json::from_str(&rest("GET", "/api/v1/policies").send().await.body).unwrap();
    let fingerprint = doc["fingerprint"].as_str().unwrap().to_string();
    assert!(!doc["hazards"].as_array().unwrap().is_empty(), "{doc}");
    let reply = rest("POST", "/api/v1/policies/apply")
        .json(&json!({"fingerprint": fingerprint}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(
        reply.body.contains("confirmation_required"),
        "{}",
        reply.body
    );
    let reply = rest("POST", "/api/v1/policies/apply")
        .json(&json!({"fingerprint": "0000000000000000", "confirm": ["factory_telemetry.metric_hist"]}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("plan_changed"), "{}", reply.body);
    assert_eq!(drop_after(&console).await, "90 days");
    // A body that is not what the endpoint takes is named.
    let reply = rest("POST", "/api/v1/policies/apply")
        .json(&json!({"confirmm": []}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("confirmm"), "{}", reply.body);
    let reply = rest("POST", "/api/v1/policies/apply")
        .json(&json!({"fingerprint": fingerprint, "confirm": ["factory_telemetry.metric_hist"]}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(drop_after(&console).await, "5 days");

    // The revert twin: preview, then revert with its fingerprint.
    let reply = rest(
        "GET",
        &format!("/api/v1/policies/revert?audit_id={audit_id}"),
    )
    .send()
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let preview: Value = serde_json::from_str(&reply.body).unwrap();
    let reply = rest("POST", "/api/v1/policies/revert")
        .json(&json!({"audit_id": audit_id, "fingerprint": preview["fingerprint"]}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(drop_after(&console).await, "90 days");
    let reply = rest("GET", "/api/v1/policies/revert?audit_id=x")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("audit_id"), "{}", reply.body);
    // Answers with a policy's or a token's facts are never cached.
    assert_eq!(
        reply
            .headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
}

#[tokio::test]
async fn dotted_and_quoted_names_stay_two_relations_everywhere() {
    let console = Console::start(false).await;
    let pool = console.pool();
    sqlx::raw_sql(
        r#"CREATE SCHEMA "zz_probe.a"; CREATE SCHEMA zz_probe;
           CREATE TABLE "zz_probe.a".b (ts timestamptz NOT NULL, v int);
           CREATE TABLE zz_probe."a.b" (ts timestamptz NOT NULL, v int);
           SELECT create_hypertable('"zz_probe.a".b', by_range('ts'));
           SELECT create_hypertable('zz_probe."a.b"', by_range('ts'));
           INSERT INTO "zz_probe.a".b SELECT g, 1 FROM generate_series(now() - interval '3 days', now(), interval '1 hour') g;
           INSERT INTO zz_probe."a.b" SELECT g, 2 FROM generate_series(now() - interval '3 days', now(), interval '2 hours') g;"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    console.state.monitor.request_refresh();
    console.snapshot_started_after(chrono::Utc::now()).await;
    let token = console.add_token("ops", Role::Admin).await;

    // Two series in Prometheus, one per table.
    let metrics = console
        .request("GET", "/metrics")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.body.contains(r#"hypertable="\"zz_probe.a\".b""#),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains(r#"hypertable="zz_probe.\"a.b\"""#),
        "{}",
        metrics.body
    );
    // REST picks the one named.
    let reply = console
        .request(
            "GET",
            "/api/v1/monitoring/metrics/chunks?hypertable=zz_probe.%22a.b%22",
        )
        .bearer(&token)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page: Value = serde_json::from_str(&reply.body).unwrap();
    let chunks = page["chunks"].as_array().unwrap();
    assert!(!chunks.is_empty());
    assert!(chunks.iter().all(|c| c["hypertable_schema"] == "zz_probe"));
    let reply = console
        .request(
            "GET",
            "/api/v1/monitoring/metrics/chunks?hypertable=zz_probe.a.b",
        )
        .bearer(&token)
        .send()
        .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "ambiguous: {}",
        reply.body
    );

    // Taken under management through the console, one of them: nothing changes on it,
    // nothing at all on the other, and the audit names it as a pair.
    console.add_user("ada", Role::Admin, PASSWORD).await;
    let ada = console.login("ada", PASSWORD).await;
    let (status, saved) = call_json(
        &console,
        &ada,
        "/api/fn/save-policy",
        json!({"schema": "zz_probe.a", "table": "b", "form": {"managed": "yes"}, "confirm": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["Saved"]["steps"],
        json!([]),
        "adopting changes nothing: {saved}"
    );
    let (adopted, relation): (Value, Value) = sqlx::query_as(
        "SELECT after -> 'adopted_from_live', before -> 'relation' FROM console.audit_log
          WHERE action = 'policy.edit' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        adopted.as_array().is_some_and(|a| !a.is_empty()),
        "{adopted}"
    );
    assert_eq!(
        relation,
        json!({"schema": "zz_probe.a", "name": "b", "kind": "hypertable"})
    );
    let doc: Value = serde_json::from_str(
        &console
            .request("GET", "/api/v1/policies")
            .bearer(&token)
            .send()
            .await
            .body,
    )
    .unwrap();
    let touching: Vec<&Value> = doc["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["table"]["schema"]
                .as_str()
                .unwrap_or("")
                .starts_with("zz_probe")
        })
        .collect();
    assert!(touching.is_empty(), "{touching:?}");
}

fn cli(url: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ms5-console"))
        .args(["policies"])
        .args(args)
        .env("DATABASE_URL", url)
        .env("MS5_ENV", "development")
        .env("MS5_LOG_LEVEL", "error")
        .stdin(Stdio::null())
        .output()
        .expect("run ms5-console");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

async fn cli_async(url: &str, args: &[&str]) -> (Option<i32>, String) {
    let url = url.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&url, &args)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_command_line_plans_applies_and_reverts_with_the_same_confirmations() {
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.bare_database("policies_cli").await;
        let url = database.url.clone();
        let (code, text) = cli_async(&url, &["plan"]).await;
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.contains("factory_telemetry.metric_hist: managed (matches factory_telemetry.*)"),
            "{text}"
        );
        assert!(
            text.contains("add retention policy drop_after 90 days"),
            "{text}"
        );
        assert!(
            text.contains(
                "SELECT add_retention_policy('\"factory_telemetry\".\"metric_hist\"'::regclass"
            ),
            "{text}"
        );
        let (code, text) = cli_async(&url, &["apply"]).await;
        assert_eq!(code, Some(2), "no terminal, no --yes: {text}");
        assert!(text.contains("pass --yes"), "{text}");
        let (code, text) = cli_async(&url, &["apply", "--yes"]).await;
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("applied"), "{text}");
        let (code, text) = cli_async(&url, &["plan"]).await;
        assert_eq!(code, Some(0));
        assert!(text.contains("in sync: nothing to apply"), "{text}");

        // A shorter retention saved by an admin: the plan says what it drops; --yes alone
        // does not drop it, --confirm with the name does.
        let pool = database.pool(2).await;
        sqlx::query(
            "INSERT INTO factory_telemetry.metric_hist (ts, equipment_id, line_id, metric_name, value)
             SELECT g, 'press-1', 'line-1', 'temperature', 20
               FROM generate_series(now() - interval '20 days', now(), interval '1 hour') g",
        )
        .execute(&pool)
        .await
        .unwrap();
        let metric = tsdb::policy::HypertableName::new("factory_telemetry", "metric_hist");
        let mut overrides = tsdb::policy::PolicyOverride::default();
        overrides.set("compression_after", "2 days").unwrap();
        overrides.set("retention_policy", "5 days").unwrap();
        let audit_id = tsdb::testing::policies::save(
            &pool,
            &metric,
            &tsdb::policy::PolicyEdit {
                managed: None,
                overrides,
            },
        )
        .await;
        let (code, text) = cli_async(&url, &["plan"]).await;
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("would lose data:"), "{text}");
        let (code, text) = cli_async(&url, &["apply", "--yes"]).await;
        assert_eq!(code, Some(2), "{text}");
        assert!(text.contains("name each relation with --confirm"), "{text}");
        // The hourly aggregate never materialized those rows: the name alone is not enough.
        let (code, text) = cli_async(
            &url,
            &[
                "apply",
                "--yes",
                "--confirm",
                "factory_telemetry.metric_hist",
            ],
        )
        .await;
        assert_eq!(code, Some(2), "{text}");
        assert!(text.contains("--accept-aggregate-loss"), "{text}");
        let (code, text) = cli_async(
            &url,
            &[
                "apply",
                "--yes",
                "--confirm",
                "factory_telemetry.metric_hist",
                "--accept-aggregate-loss",
            ],
        )
        .await;
        assert_eq!(code, Some(0), "{text}");
        let live: String = sqlx::query_scalar(
            "SELECT config ->> 'drop_after' FROM timescaledb_information.jobs
              WHERE proc_name = 'policy_retention' AND hypertable_name = 'metric_hist'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(live, "5 days");
        // Reverting it from the command line: back to 90 days.
        let id = audit_id.to_string();
        let (code, text) = cli_async(&url, &["revert", &id, "--yes"]).await;
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("reverting audit entry"), "{text}");
        let live: String = sqlx::query_scalar(
            "SELECT config ->> 'drop_after' FROM timescaledb_information.jobs
              WHERE proc_name = 'policy_retention' AND hypertable_name = 'metric_hist'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(live, "90 days");
        let (code, text) = cli_async(&url, &["revert", &id, "--yes"]).await;
        assert_eq!(code, Some(2), "{text}");
        assert!(text.contains("already reverted"), "{text}");
        pool.close().await;
    }
}
