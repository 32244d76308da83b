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

/// A server function's JSON answer for a signed-in session.
async fn server_fn(console: &Console, cookie: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let reply = console.call_fn(cookie, path, form).await;
    assert_eq!(reply.status, http::StatusCode::OK, "{path}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// The overview, the hypertables list, each hypertable's page, diagnostics and the
/// policy dry-run read the same snapshot the same way: on the demo (devdb), and on each
/// native tier with a job the scheduler fails and an aggregate never refreshed.
#[tokio::test]
async fn pages_diagnostics_and_dry_runs_agree() {
    let console = Console::start(true).await;
    pages_agree(&console, false).await;
    for tier in tsdb::testing::native_tiers() {
        eprintln!("on {}", tier.describe());
        let database = tier.bare_database("one_truth").await;
        let url = database.url.clone();
        let console = Console::start_on(&url, Box::new(database), true).await;
        pages_agree(&console, true).await;
    }
}

async fn pages_agree(console: &Console, scheduler: bool) {
    let pool = console.pool();
    // Lagging on every page that lists aggregates: a refresh policy that has not run yet.
    sqlx::raw_sql(
        "CREATE MATERIALIZED VIEW factory_telemetry.daily_counts WITH (timescaledb.continuous) AS
           SELECT time_bucket(INTERVAL '1 day', ts) AS day, count(*) AS n
             FROM factory_telemetry.metric_hist GROUP BY 1 WITH NO DATA;
         SELECT add_continuous_aggregate_policy('factory_telemetry.daily_counts',
                  start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 day',
                  schedule_interval => INTERVAL '1 day',
                  initial_start => now() + INTERVAL '1 day');",
    )
    .execute(&pool)
    .await
    .unwrap();
    let flaky = if scheduler {
        Some(tsdb::testing::flaky_job::create(&pool, "2 seconds", "0 seconds").await)
    } else {
        None
    };
    let mut snapshot = console.snapshot_started_after(chrono::Utc::now()).await;
    // A scheduler fails the job within seconds; passes are 5 s apart.
    for _ in 0..24 {
        let failed = |job: i32| {
            snapshot.jobs.iter().any(|j| {
                j.id == i64::from(job) && j.last_run_status == Some(tsdb::facts::RunStatus::Failed)
            })
        };
        if flaky.is_none_or(failed) {
            break;
        }
        snapshot = console.snapshot_after(Some(snapshot.taken_at)).await;
    }

    console
        .add_user("ada", Role::Admin, "correct horse battery staple")
        .await;
    let ada = console.login("ada", "correct horse battery staple").await;
    let admin = console.add_token("one-truth", Role::Admin).await;
    let rest = |uri: &'static str| {
        let admin = admin.clone();
        async move {
            let reply = console.request("GET", uri).bearer(&admin).send().await;
            assert_eq!(reply.status, http::StatusCode::OK, "{uri}: {}", reply.body);
            serde_json::from_str::<Value>(&reply.body).unwrap()
        }
    };
    let taken = |header: &Value| {
        chrono::DateTime::parse_from_rfc3339(header["taken_at"].as_str().unwrap()).unwrap()
    };
    for _ in 0..20 {
        let overview = server_fn(console, &ada, "/api/fn/overview", &[]).await;
        let list = server_fn(console, &ada, "/api/fn/hypertables", &[]).await;
        let diagnosis = rest("/api/v1/diagnostics").await;
        let mut pages = Vec::new();
        for h in list["hypertables"].as_array().unwrap() {
            let form = [
                ("schema", h["schema"].as_str().unwrap()),
                ("name", h["name"].as_str().unwrap()),
            ];
            pages.push(server_fn(console, &ada, "/api/fn/hypertable", &form).await);
        }
        let when = taken(&overview["header"]);
        let same = taken(&list["header"]) == when
            && taken(&diagnosis) == when
            && pages.iter().all(|p| taken(&p["header"]) == when);
        if !same {
            continue;
        }
        let tables = list["hypertables"].as_array().unwrap();
        assert!(tables.len() >= 5, "{list}");

        // Totals on the overview are the sums of the list's rows.
        let sum = |figure: &str| {
            tables
                .iter()
                .map(|h| h[figure].as_i64().unwrap())
                .sum::<i64>()
        };
        let totals = &overview["totals"];
        assert_eq!(totals["hypertables"].as_u64(), Some(tables.len() as u64));
        for (total, figure) in [
            ("total_bytes", "total_bytes"),
            ("chunks", "chunk_count"),
            ("compressed_chunks", "compressed_chunk_count"),
            ("backlog_chunks", "backlog_chunks"),
        ] {
            assert_eq!(totals[total].as_i64(), Some(sum(figure)), "{total}");
        }
        // A table reads the same in the overview's lists, the list and its own page,
        // whose chunk lists count what its figures say.
        let row = |schema: &Value, name: &Value| {
            tables
                .iter()
                .find(|h| &h["schema"] == schema && &h["name"] == name)
                .unwrap()
        };
        for listed in ["biggest", "backlog", "worst_compression"] {
            for h in overview[listed].as_array().unwrap() {
                assert_eq!(h, row(&h["schema"], &h["name"]), "overview's {listed}");
            }
        }
        for page in &pages {
            let h = &page["hypertable"];
            assert_eq!(h, row(&h["schema"], &h["name"]), "its page");
            let count = |window: &str| page[window]["total"].as_i64().unwrap();
            assert_eq!(count("timeline"), h["chunk_count"].as_i64().unwrap());
            assert_eq!(
                count("compressed"),
                h["compressed_chunk_count"].as_i64().unwrap()
            );
            assert_eq!(
                count("uncompressed"),
                h["chunk_count"].as_i64().unwrap() - h["compressed_chunk_count"].as_i64().unwrap()
            );
            let listed_backlog = page["uncompressed"]["chunks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["in_backlog"] == true)
                .count();
            assert_eq!(listed_backlog as i64, h["backlog_chunks"].as_i64().unwrap());
        }

        // Diagnostics name the aggregates the overview lists as lagging, and every job
        // it lists as failing.
        let findings = |check: &str, severity: Option<&str>| -> Vec<String> {
            let mut subjects: Vec<String> = diagnosis["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["check"] == check)
                .filter(|f| severity.is_none_or(|s| f["severity"] == s))
                .map(|f| f["subject"].as_str().unwrap().to_string())
                .collect();
            subjects.sort();
            subjects
        };
        let mut lagging: Vec<String> = overview["lagging_aggregates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                tsdb::ident::display_name(
                    c["schema"].as_str().unwrap(),
                    c["name"].as_str().unwrap(),
                )
            })
            .collect();
        lagging.sort();
        assert!(
            lagging.contains(&"factory_telemetry.daily_counts".to_string()),
            "{overview}"
        );
        assert_eq!(lagging, findings("cagg_lag", Some("warning")));
        assert_eq!(
            overview["lagging_aggregate_count"].as_u64(),
            Some(lagging.len() as u64)
        );
        let failing: Vec<String> = overview["failing_jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| format!("job {}", j["id"]))
            .collect();
        assert_eq!(
            overview["failing_job_count"].as_u64(),
            Some(failing.len() as u64)
        );
        if let Some(job) = flaky {
            assert!(failing.contains(&format!("job {job}")), "{overview}");
        }
        let diagnosed = findings("failing_jobs", None);
        for job in &failing {
            assert!(diagnosed.contains(job), "{job} not in {diagnosed:?}");
        }

        // The policy dry-run's measured ratio is the table's (devdb: no scheduler
        // compresses between the snapshot and the dry-run).
        if !scheduler {
            let reply = console
                .request("POST", "/api/v1/policies/preview")
                .bearer(&admin)
                .json(&serde_json::json!({
                    "relation": "factory_telemetry.metric_hist",
                    "form": {"managed": "follow"},
                }))
                .send()
                .await;
            assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.body);
            let preview: Value = serde_json::from_str(&reply.body).unwrap();
            let dry_ratio = preview["Effect"]["dry_run"]["compression"]["ratio"].as_f64();
            let metric = row(&"factory_telemetry".into(), &"metric_hist".into());
            assert!(dry_ratio.is_some(), "{preview}");
            assert_eq!(dry_ratio, metric["compression_ratio"].as_f64(), "{preview}");
        }
        return;
    }
    panic!("no pages came from the same snapshot in 20 tries");
}
