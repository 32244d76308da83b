//! A server whose internal catalog the console cannot read (a TimescaleDB newer than it
//! knows, or a column renamed): the console reads TimescaleDB's public API only, and says
//! so everywhere: every page's banner, `/health` (degraded, with the reason),
//! `/health/timescaledb` (not fully supported, and why), Prometheus, diagnostics. Forced
//! on devdb and on every native release; the figures' exactness in that mode is checked
//! by the engine's monitoring test.

mod support;

use http::StatusCode;
use serde_json::Value;
use support::Console;
use tsdb::types::Role;

const PASSWORD: &str = "correct horse battery staple";
const REASON: &str = "TimescaleDB 2.30.0 is newer than this console knows (2.29 at most): figures come from TimescaleDB's public views";

async fn says_so_everywhere(console: Console) {
    let first = console.snapshot_after(None).await;
    assert!(
        first.catalog_fallback.is_none(),
        "a known release reads the catalog"
    );
    let token = console.add_token("ops", Role::Admin).await;
    console.add_user("vera", Role::Viewer, PASSWORD).await;
    let cookie = console.login("vera", PASSWORD).await;

    let capabilities = console.state.capabilities().expect("probed");
    console
        .state
        .set_capabilities(capabilities.reading_public_api_only(REASON));
    let moment = chrono::Utc::now();
    console.state.monitor.request_refresh();
    let fallback = console.snapshot_started_after(moment).await;
    assert_eq!(fallback.catalog_fallback.as_deref(), Some(REASON));
    // The same tables and chunks, read another way.
    let names = |s: &tsdb::facts::Snapshot| {
        let mut names: Vec<(String, i64)> = s
            .hypertables
            .iter()
            .map(|h| (h.qualified(), h.chunk_count))
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&fallback), names(&first));
    assert!(fallback
        .continuous_aggregates
        .iter()
        .all(|c| c.watermark.is_none()));

    let reply = console
        .request("GET", "/api/v1/monitoring/health")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let health: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(health["status"], "degraded", "{}", reply.body);
    assert!(
        health["reasons"]
            .as_array()
            .unwrap()
            .contains(&Value::from("catalog_public_api_only")),
        "{}",
        reply.body
    );

    let reply = console
        .request("GET", "/api/v1/monitoring/health/timescaledb")
        .bearer(&token)
        .send()
        .await;
    let extension: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(extension["supported"], false, "{}", reply.body);
    assert_eq!(extension["catalog_reads"], "public");
    assert_eq!(extension["message"], REASON);

    let reply = console
        .request("GET", "/metrics")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.body.contains("\nms5_catalog_public_api_only 1\n"),
        "{}",
        reply.body
    );
    assert!(
        !reply
            .body
            .contains("ms5_continuous_aggregate_refresh_lag_seconds{"),
        "an unknown lag is not exported"
    );

    // Every page a viewer opens carries the banner with the reason; none fails.
    for path in [
        "/",
        "/hypertables",
        "/jobs",
        "/storage",
        "/diagnostics",
        "/policies",
    ] {
        let page = console.request("GET", path).cookie(&cookie).send().await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains("catalog-fallback"), "{path}: no banner");
        assert!(
            page.body.contains("is newer than this console knows"),
            "{path}"
        );
    }
    // Unknown is not "none": no aggregate is called never refreshed or lagging, and
    // diagnostics name what they could not check.
    let overview = console.request("GET", "/").cookie(&cookie).send().await;
    assert!(!overview.body.contains("never refreshed"));
    assert!(overview.body.contains("watermarks-unknown"));
    let diagnostics = console
        .request("GET", "/diagnostics")
        .cookie(&cookie)
        .send()
        .await;
    assert!(
        diagnostics.body.contains("not-checked"),
        "diagnostics say what they could not look at"
    );
    assert!(!diagnostics.body.contains("has never been refreshed"));

    // Policies are read through the public views on every release.
    let reply = console
        .request("GET", "/api/v1/policies")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn the_public_api_fallback_says_so_everywhere_on_devdb() {
    says_so_everywhere(Console::start(true).await).await;
}

#[tokio::test]
async fn the_public_api_fallback_says_so_everywhere_on_the_native_tier() {
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.bare_database("public_api").await;
        let url = database.url.clone();
        says_so_everywhere(Console::start_on(&url, Box::new(database), true).await).await;
    }
}

/// An operator who distrusts the internal catalog (`MS5_CATALOG_READS=public`) gets the
/// public-API pass on a release the console knows, from the first pass, said as such.
#[tokio::test]
async fn the_operator_can_choose_the_public_api() {
    let devdb = tokio::task::spawn_blocking(tsdb::testing::DevDb::start)
        .await
        .unwrap();
    let settings = support::settings_with(
        Some(&devdb.url()),
        false,
        &[("MS5_CATALOG_READS", "Public")],
    );
    let console = Console::start_with(settings, Box::new(devdb)).await;
    let first = console.snapshot_after(None).await;
    let reason = first
        .catalog_fallback
        .clone()
        .expect("read through the public API");
    assert!(reason.contains("MS5_CATALOG_READS is public"), "{reason}");
    let token = console.add_token("ops", Role::Admin).await;
    let reply = console
        .request("GET", "/api/v1/monitoring/health/timescaledb")
        .bearer(&token)
        .send()
        .await;
    let health: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(health["catalog_reads"], "public", "{}", reply.body);
    assert_eq!(health["supported"], false, "{}", reply.body);
}
