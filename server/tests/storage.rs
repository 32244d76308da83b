//! Storage history, diagnostics and the advisor through the console: the sampler task
//! back-fills the demo's history and records a measured sample, writes nothing before the
//! next one is due, and (native) stays out while another instance holds its lock; the REST
//! answers for trends (JSON and CSV), forecast, diagnostics and the advisor, with their
//! validation and roles.

mod support;

use http::StatusCode;
use server::tasks::storage_sampler::{self, SamplerSettings};
use std::time::Duration;
use support::Console;
use tsdb::storage::history;
use tsdb::types::Role;

const EVERY: SamplerSettings = SamplerSettings {
    every: Duration::from_secs(3600),
    backfill: true,
};

#[tokio::test]
async fn the_sampler_and_the_storage_answers_on_devdb() {
    let console = Console::start(true).await;
    let snapshot = console.snapshot_after(None).await;
    let pool = console.pool();

    // First look: the demo's history back-filled, then a measured sample.
    let written = storage_sampler::sample(&pool, &snapshot, EVERY)
        .await
        .unwrap()
        .expect("no other instance holds the lock");
    let samples = history::read(&pool, None, 1).await.unwrap();
    assert_eq!(written as usize, samples.len());
    let measured: Vec<_> = samples.iter().filter(|s| !s.generated).collect();
    assert_eq!(measured.len(), tsdb::storage::samples_of(&snapshot).len());
    assert!(samples.iter().filter(|s| s.generated).count() > 100);
    // Not due again within the hour: nothing written, nothing back-filled twice.
    let again = console.snapshot_after(Some(snapshot.taken_at)).await;
    assert_eq!(
        storage_sampler::sample(&pool, &again, EVERY).await.unwrap(),
        Some(0)
    );

    let viewer = console.add_token("viewer", Role::Viewer).await;
    let operator = console.add_token("operator", Role::Operator).await;
    let get = |uri: &str, token: &str| console.request("GET", uri).bearer(token).send();

    let trends = get("/api/v1/storage/trends?range=all&view=tables", &viewer).await;
    assert_eq!(trends.status, StatusCode::OK, "{}", trends.body);
    let json: serde_json::Value = serde_json::from_str(&trends.body).unwrap();
    assert!(json["series"].as_array().unwrap().len() >= 2);
    assert_eq!(json["generated"], true);

    let bad = get("/api/v1/storage/trends?range=1y", &viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("range: expected one of 7d, 30d, 90d, all"),
        "{}",
        bad.body
    );
    let unknown = get("/api/v1/storage/trends?table=nowhere.nothing", &viewer).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    let csv = get(
        "/api/v1/storage/trends/csv?range=30d&view=compression&table=factory_telemetry.metric_hist",
        &viewer,
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers["content-disposition"],
        "attachment; filename=\"storage-compression-30d.csv\""
    );
    assert!(csv
        .body
        .starts_with("sampled_at,uncompressed_bytes,compressed_bytes,database_bytes\n"));

    let forecast = get("/api/v1/storage/forecast", &viewer).await;
    assert_eq!(forecast.status, StatusCode::OK, "{}", forecast.body);
    let json: serde_json::Value = serde_json::from_str(&forecast.body).unwrap();
    assert!(json["database"]["points"].as_array().unwrap().len() == 91);

    let diagnostics = get("/api/v1/diagnostics", &viewer).await;
    assert_eq!(diagnostics.status, StatusCode::OK, "{}", diagnostics.body);
    assert!(
        diagnostics.body.contains("\"check\":\"scheduler\""),
        "{}",
        diagnostics.body
    );

    let advice = get(
        "/api/v1/advisor?hypertable=factory_telemetry.energy_consumption",
        &viewer,
    )
    .await;
    assert_eq!(advice.status, StatusCode::OK, "{}", advice.body);
    let json: serde_json::Value = serde_json::from_str(&advice.body).unwrap();
    assert_eq!(json["segment_by"]["items"][0], "equipment_id", "{json:#}");
    let missing = get("/api/v1/advisor", &viewer).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body.contains("hypertable: required"),
        "{}",
        missing.body
    );
    let nowhere = get("/api/v1/advisor?hypertable=public.nowhere", &viewer).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    let trial_uri = "/api/v1/advisor/trial?hypertable=factory_telemetry.energy_consumption";
    let refused = console
        .request("POST", trial_uri)
        .bearer(&viewer)
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let trial = console
        .request("POST", trial_uri)
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(trial.status, StatusCode::OK, "{}", trial.body);
    let json: serde_json::Value = serde_json::from_str(&trial.body).unwrap();
    assert!(
        json["results"][0]["after_bytes"].as_i64().unwrap() > 0,
        "{json:#}"
    );
}

#[tokio::test]
async fn the_sampler_stays_out_while_another_instance_holds_its_lock() {
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.database("sampler_lock").await;
        let pool = database.pool(4).await;
        tsdb::migrations::run(&pool).await.unwrap();
        let capabilities = tsdb::capabilities::Capabilities::probe(&pool)
            .await
            .unwrap();
        let snapshot = tsdb::monitoring::gather(
            &pool,
            &capabilities,
            &mut tsdb::monitoring::PassCache::default(),
            tsdb::monitoring::Pass::Full,
        )
        .await
        .unwrap();
        let held = tsdb::locks::try_lock(&pool, tsdb::locks::TaskLock::StorageSampler)
            .await
            .unwrap()
            .expect("the lock is free");
        assert_eq!(
            storage_sampler::sample(&pool, &snapshot, EVERY)
                .await
                .unwrap(),
            None
        );
        held.release().await.unwrap();
        let written = storage_sampler::sample(&pool, &snapshot, EVERY)
            .await
            .unwrap();
        assert_eq!(
            written,
            Some(tsdb::storage::samples_of(&snapshot).len() as u64)
        );
        pool.close().await;
    }
}
