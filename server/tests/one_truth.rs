//! One figure, one computation: a hypertable's size, the database's size and a table's
//! compression read the same in every answer that shows them (the hypertables metrics,
//! storage trends and forecast, Prometheus), taken from one snapshot.

mod support;

use serde_json::Value;
use server::tasks::storage_sampler::{self, SamplerSettings};
use std::collections::BTreeMap;
use std::time::Duration;
use support::Console;
use tsdb::types::Role;

/// `name{labels} value` lines of one metric, by the value of `label`.
fn prometheus(text: &str, metric: &str, label: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .filter_map(|line| {
            let (labels, value) = line.rsplit_once(' ')?;
            let start = labels.find(&format!("{label}=\""))? + label.len() + 2;
            let end = start + labels[start..].find('"')?;
            Some((
                labels[start..end].replace("\\\"", "\""),
                value.parse().ok()?,
            ))
        })
        .collect()
}

#[tokio::test]
async fn every_answer_shows_the_same_sizes() {
    let console = Console::start(true).await;
    let snapshot = console.snapshot_after(None).await;
    let every = SamplerSettings {
        every: Duration::from_secs(3600),
        backfill: true,
    };
    storage_sampler::sample(&console.pool(), &snapshot, every)
        .await
        .unwrap();
    // Compared on a later pass: the history's newest sample is then older than the figures
    // (the samples table itself grew by the sample), as it is between two samples.
    console.snapshot_after(Some(snapshot.taken_at)).await;
    let admin = console.add_token("ops", Role::Admin).await;
    let json = |uri: &'static str| {
        let console = &console;
        let admin = admin.clone();
        async move {
            let reply = console.request("GET", uri).bearer(&admin).send().await;
            assert_eq!(reply.status, http::StatusCode::OK, "{uri}: {}", reply.body);
            serde_json::from_str::<Value>(&reply.body).unwrap()
        }
    };
    // The refresher publishes a new snapshot every few seconds: the answers are compared
    // when all of them come from the same one.
    for _ in 0..20 {
        let before = json("/api/v1/monitoring/metrics/hypertables").await;
        let trends = json("/api/v1/storage/trends?range=all&view=tables").await;
        let forecast = json("/api/v1/storage/forecast").await;
        let metrics = console
            .request("GET", "/metrics")
            .bearer(&admin)
            .send()
            .await
            .body;
        let after = json("/api/v1/monitoring/metrics/hypertables").await;
        let taken = &before["snapshot_taken_at"];
        if taken != &after["snapshot_taken_at"] {
            continue;
        }
        let same_snapshot = chrono::DateTime::parse_from_rfc3339(taken.as_str().unwrap())
            == chrono::DateTime::parse_from_rfc3339(forecast["computed_at"].as_str().unwrap());
        assert!(same_snapshot, "{taken} vs {}", forecast["computed_at"]);

        let by_name = |rows: &Value, name: &str, figure: &str| -> BTreeMap<String, f64> {
            rows.as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r[name].as_str().unwrap().to_string(),
                        r[figure].as_f64().unwrap(),
                    )
                })
                .collect()
        };
        let sizes: BTreeMap<String, f64> = before["hypertables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let name = tsdb::ident::display_name(
                    h["schema"].as_str().unwrap(),
                    h["name"].as_str().unwrap(),
                );
                (name, h["total_bytes"].as_f64().unwrap())
            })
            .collect();
        assert!(sizes.len() >= 5, "{sizes:?}");
        let prometheus_sizes = prometheus(&metrics, "ms5_hypertable_bytes", "hypertable");
        let growth = by_name(&trends["growth"], "relation", "bytes_now");
        let outlook = by_name(&forecast["tables"], "relation", "bytes_now");
        for (table, bytes) in &sizes {
            assert_eq!(
                prometheus_sizes.get(table),
                Some(bytes),
                "{table}: Prometheus"
            );
            assert_eq!(growth.get(table), Some(bytes), "{table}: storage trends");
            assert_eq!(outlook.get(table), Some(bytes), "{table}: forecast");
        }
        let database = prometheus(&metrics, "ms5_database_size_bytes", "database");
        let database = *database.values().next().expect("the database's size");
        assert_eq!(
            trends["database_growth"]["bytes_now"].as_f64(),
            Some(database)
        );
        assert_eq!(forecast["database_now"].as_f64(), Some(database));
        // A table's compression: the hypertables' ratio and the trends' saving agree.
        for h in before["hypertables"].as_array().unwrap() {
            let name = tsdb::ident::display_name(
                h["schema"].as_str().unwrap(),
                h["name"].as_str().unwrap(),
            );
            let row = trends["growth"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["relation"] == name.as_str())
                .unwrap();
            match h["compression_ratio"].as_f64() {
                Some(ratio) => {
                    let saving = row["compression_saving"].as_f64().unwrap();
                    assert!((saving - (1.0 - 1.0 / ratio)).abs() < 1e-9, "{name}");
                }
                None => assert!(row["compression_saving"].is_null(), "{name}"),
            }
        }
        return;
    }
    panic!("no two answers came from the same snapshot in 20 tries");
}
