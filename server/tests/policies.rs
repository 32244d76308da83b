//! Policy automation through the console: the start-up reconciler applies the demo
//! tables' policies; admins preview, save (confirming what drops data), apply and revert
//! through the server functions; REST reads and applies with a token; operators and
//! viewers are refused; the command line plans and applies for scripts (native tier).

mod support;

use http::StatusCode;
use serde_json::Value;
use std::process::{Command, Stdio};
use support::Console;
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";

/// Runs the start-up reconciler as `serve` does and waits for its apply.
async fn reconcile(console: &Console) {
    let (_stop, stopped) = server::shutdown::channel();
    server::tasks::policy_reconciler::run(console.state.clone(), true, stopped)
        .await
        .unwrap();
    let last = console
        .state
        .policies
        .last()
        .expect("an apply was recorded");
    assert_eq!(last.failed, 0, "{:?}", last.failures);
}

fn field_form<'a>(
    schema: &'a str,
    table: &'a str,
    fields: &[(&'a str, &'a str)],
) -> Vec<(String, String)> {
    let mut form = vec![
        ("schema".to_string(), schema.to_string()),
        ("table".to_string(), table.to_string()),
    ];
    for (name, value) in fields {
        form.push((name.to_string(), value.to_string()));
    }
    form
}

async fn call(
    console: &Console,
    cookie: &str,
    path: &str,
    form: &[(String, String)],
) -> (StatusCode, Value) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = console
        .request("POST", path)
        .cookie(cookie)
        .form(&pairs)
        .send()
        .await;
    let body = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body.clone()));
    (reply.status, body)
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
    let bad = field_form(
        "factory_telemetry",
        "metric_hist",
        &[
            ("form[managed]", "follow"),
            ("form[retention]", "90 dayz"),
            ("form[segment_by]", "no_such_column"),
        ],
    );
    let (status, preview) = call(&console, &ada, "/api/fn/preview-policy", &bad).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let fields: Vec<&str> = preview["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["retention", "segment_by"], "{preview}");

    // A retention that drops data now: the dry-run lists the chunks, saving needs the name.
    let shorter = field_form(
        "factory_telemetry",
        "metric_hist",
        &[
            ("form[managed]", "follow"),
            ("form[compression_after]", "2 days"),
            ("form[retention]", "5 days"),
        ],
    );
    let (_, preview) = call(&console, &ada, "/api/fn/preview-policy", &shorter).await;
    let effect = &preview["Effect"];
    assert_eq!(effect["drops_data"], true, "{preview}");
    assert!(!effect["dry_run"]["retention"]["chunks"]
        .as_array()
        .unwrap()
        .is_empty());
    let (_, saved) = call(&console, &ada, "/api/fn/save-policy", &shorter).await;
    assert!(
        saved["NeedsConfirmation"]
            .as_str()
            .unwrap()
            .contains("type the table's name (factory_telemetry.metric_hist)"),
        "{saved}"
    );
    let (status, _) = call(&console, &olga, "/api/fn/save-policy", &shorter).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut confirmed = shorter.clone();
    confirmed.push((
        "confirm_name".into(),
        "factory_telemetry.metric_hist".into(),
    ));
    let (status, saved) = call(&console, &ada, "/api/fn/save-policy", &confirmed).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let audit_id = saved["Saved"]["audit_id"].as_i64().unwrap();
    let steps = saved["Saved"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{saved}");

    // Apply: the live policy follows; the operator may not apply.
    let (status, _) = call(&console, &olga, "/api/fn/apply-policies", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, report) = call(&console, &ada, "/api/fn/apply-policies", &[]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "applied"));
    assert_eq!(drop_after(&console).await, "5 days");

    // Revert from the audit trail: back to the configured 90 days.
    let (status, report) = call(
        &console,
        &ada,
        "/api/fn/revert-policy",
        &[("audit_id".into(), audit_id.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(drop_after(&console).await, "90 days");

    // The viewer reads, read-only; the pages render for both.
    let (status, view) = call(&console, &olga, "/api/fn/policies", &[]).await;
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

#[tokio::test]
async fn the_command_line_plans_and_applies_for_scripts() {
    let Some(tier) = tsdb::testing::native_tier() else {
        return;
    };
    let database = tier.bare_database("policies_cli").await;
    let url = database.url.clone();
    let (code, text) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || cli(&url, &["plan"])
    })
    .await
    .unwrap();
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
    let (code, text) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || cli(&url, &["apply"])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(2), "no terminal, no --yes: {text}");
    assert!(text.contains("pass --yes"), "{text}");
    let (code, text) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || cli(&url, &["apply", "--yes"])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("applied"), "{text}");
    let (code, text) = tokio::task::spawn_blocking(move || cli(&url, &["plan"]))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    assert!(text.contains("in sync: nothing to apply"), "{text}");
}
