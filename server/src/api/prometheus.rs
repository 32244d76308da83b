//! `GET /metrics`: the snapshot in Prometheus' text exposition format (version 0.0.4).
//! Names carry their unit and `_total` for counters; labels name the hypertable, job or
//! view. Rendering reads the snapshot only: a scrape never queries the database.

use std::fmt::Write;
use tsdb::alerts::{Alert, AlertKind};
use tsdb::facts::Snapshot;

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes a metric family's HELP and TYPE lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one sample.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    let labels: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", labels.join(","))
    };
    let _ = writeln!(out, "{name}{labels} {value}");
}

/// Renders the exposition. `snapshot` is `None` before the first pass finished;
/// `age_seconds` is how old it is; `alerts` the open job alerts; `scrape_started` when
/// rendering began.
pub fn render(
    snapshot: Option<&Snapshot>,
    age_seconds: Option<f64>,
    database_up: bool,
    alerts: &[Alert],
    scrape_started: std::time::Instant,
) -> String {
    let facts = snapshot.map(facts);
    render_with(
        snapshot,
        age_seconds,
        database_up,
        alerts,
        scrape_started,
        facts.as_deref(),
    )
}

/// The snapshot's facts as exposition text: the bulk of a scrape, and a function of the
/// snapshot alone (so a caller may render it once per snapshot).
pub fn facts(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    render_facts(&mut out, snapshot);
    out
}

/// As [`render`], with the snapshot's facts already rendered (the handler's are rendered
/// once per snapshot).
pub fn render_with(
    snapshot: Option<&Snapshot>,
    age_seconds: Option<f64>,
    database_up: bool,
    alerts: &[Alert],
    scrape_started: std::time::Instant,
    facts: Option<&str>,
) -> String {
    let mut out = String::new();
    render_alerts(&mut out, alerts);
    family(
        &mut out,
        "ms5_database_up",
        "gauge",
        "Whether the console reached the database on its last attempt (1) or not (0).",
    );
    sample(
        &mut out,
        "ms5_database_up",
        &[],
        f64::from(u8::from(database_up)),
    );
    family(
        &mut out,
        "ms5_timescaledb_up",
        "gauge",
        "Whether the TimescaleDB extension is installed in a supported version (1) or not (0).",
    );
    let extension_up = snapshot.is_some_and(|s| s.timescaledb.is_some());
    sample(
        &mut out,
        "ms5_timescaledb_up",
        &[],
        f64::from(u8::from(extension_up)),
    );
    if let (Some(snapshot), Some(age)) = (snapshot, age_seconds) {
        family(
            &mut out,
            "ms5_snapshot_age_seconds",
            "gauge",
            "Age of the catalog snapshot these figures come from.",
        );
        sample(&mut out, "ms5_snapshot_age_seconds", &[], age);
        family(
            &mut out,
            "ms5_snapshot_pass_seconds",
            "gauge",
            "Duration of the catalog pass that produced the snapshot.",
        );
        sample(
            &mut out,
            "ms5_snapshot_pass_seconds",
            &[],
            snapshot.pass_seconds,
        );
        out.push_str(facts.unwrap_or_default());
    }
    family(
        &mut out,
        "ms5_scrape_duration_seconds",
        "gauge",
        "Time taken to render this exposition.",
    );
    sample(
        &mut out,
        "ms5_scrape_duration_seconds",
        &[],
        scrape_started.elapsed().as_secs_f64(),
    );
    out
}

/// How this instance answered "who is asking": from its cache or by asking the database.
/// A high `database` rate under steady traffic means the cache is not doing its job.
pub fn render_credentials(out: &mut String, counts: app::auth::cache::CacheCounts) {
    family(
        out,
        "ms5_credential_checks_total",
        "counter",
        "Requests whose session or API token was checked, by what answered (cache or database).",
    );
    sample(
        out,
        "ms5_credential_checks_total",
        &[("answered_by", "cache")],
        counts.hits as f64,
    );
    sample(
        out,
        "ms5_credential_checks_total",
        &[("answered_by", "database")],
        counts.lookups as f64,
    );
    family(
        out,
        "ms5_session_record_reads_total",
        "counter",
        "Session records read from the database (the others came from the cache).",
    );
    sample(
        out,
        "ms5_session_record_reads_total",
        &[],
        counts.record_reads as f64,
    );
}

/// Open alerts by kind (every kind, zero included, so a rule can test `> 0`), and one
/// series per open alert naming its job.
fn render_alerts(out: &mut String, alerts: &[Alert]) {
    family(
        out,
        "ms5_alerts_open",
        "gauge",
        "Open job alerts (failing: the latest run failed; stale: no success in time; \
         partly_failing: a successful compression run left chunks uncompressed).",
    );
    for kind in AlertKind::ALL {
        let count = alerts.iter().filter(|a| a.kind == kind).count();
        sample(
            out,
            "ms5_alerts_open",
            &[("kind", kind.as_str())],
            count as f64,
        );
    }
    family(
        out,
        "ms5_job_alert",
        "gauge",
        "1 for each open job alert; acknowledged says whether someone took it.",
    );
    for alert in alerts {
        let id = alert.job_id.to_string();
        let hypertable = alert.hypertable.clone().unwrap_or_default();
        let acknowledged = if alert.acknowledged_at.is_some() {
            "true"
        } else {
            "false"
        };
        sample(
            out,
            "ms5_job_alert",
            &[
                ("job_id", id.as_str()),
                ("kind", alert.kind.as_str()),
                ("job_kind", alert.job_kind.as_str()),
                ("hypertable", hypertable.as_str()),
                ("acknowledged", acknowledged),
            ],
            1.0,
        );
    }
}

/// Reads one figure of a hypertable.
type Getter = fn(&tsdb::facts::HypertableFacts) -> f64;

fn render_facts(out: &mut String, snapshot: &Snapshot) {
    let db = &snapshot.database;
    family(
        out,
        "ms5_database_size_bytes",
        "gauge",
        "Size of the database.",
    );
    sample(
        out,
        "ms5_database_size_bytes",
        &[("database", &db.name)],
        db.size_bytes as f64,
    );
    family(
        out,
        "ms5_database_connections",
        "gauge",
        "Backends connected to the database.",
    );
    sample(
        out,
        "ms5_database_connections",
        &[("database", &db.name)],
        db.connections as f64,
    );
    if snapshot.timescaledb.is_some() {
        family(
            out,
            "ms5_catalog_public_api_only",
            "gauge",
            "Whether this snapshot was read through TimescaleDB's public API only (1: the internal catalog is not as the console knows it; slower, aggregates' watermarks unknown) or the internal catalog (0).",
        );
        sample(
            out,
            "ms5_catalog_public_api_only",
            &[],
            f64::from(u8::from(snapshot.catalog_fallback.is_some())),
        );
    }
    if let Some(ext) = &snapshot.timescaledb {
        family(
            out,
            "ms5_timescaledb_background_workers",
            "gauge",
            "TimescaleDB background workers in use and allowed.",
        );
        sample(
            out,
            "ms5_timescaledb_background_workers",
            &[("state", "in_use")],
            ext.background_workers_in_use as f64,
        );
        if let Some(max) = ext.max_background_workers {
            sample(
                out,
                "ms5_timescaledb_background_workers",
                &[("state", "max")],
                max as f64,
            );
        }
    }

    let per_hypertable: [(&str, &str, Getter); 6] = [
        (
            "ms5_hypertable_bytes",
            "Bytes on disk of the hypertable and all its chunks.",
            |h| h.total_bytes as f64,
        ),
        (
            "ms5_hypertable_before_compression_bytes",
            "Compressed chunks' size before compression.",
            |h| h.before_compression_bytes as f64,
        ),
        (
            "ms5_hypertable_after_compression_bytes",
            "Compressed chunks' size after compression.",
            |h| h.after_compression_bytes as f64,
        ),
        ("ms5_hypertable_chunks", "Chunks of the hypertable.", |h| {
            h.chunk_count as f64
        }),
        (
            "ms5_hypertable_compressed_chunks",
            "Compressed chunks of the hypertable.",
            |h| h.compressed_chunk_count as f64,
        ),
        (
            "ms5_hypertable_compression_backlog_chunks",
            "Chunks older than compress_after that are not compressed.",
            |h| h.backlog_chunks as f64,
        ),
    ];
    for (name, help, value) in per_hypertable {
        family(out, name, "gauge", help);
        for h in &snapshot.hypertables {
            sample(out, name, &[("hypertable", &h.qualified())], value(h));
        }
    }

    family(
        out,
        "ms5_job_runs_total",
        "counter",
        "Runs of the background job.",
    );
    family(
        out,
        "ms5_job_failures_total",
        "counter",
        "Failed runs of the background job.",
    );
    family(
        out,
        "ms5_job_last_success_age_seconds",
        "gauge",
        "Time since the job's last successful run ended.",
    );
    family(
        out,
        "ms5_job_chunks_left_behind",
        "gauge",
        "Chunks past compress-after a compression job's last successful run left uncompressed \
         (none while it runs).",
    );
    let now = snapshot.taken_at;
    for job in &snapshot.jobs {
        let id = job.id.to_string();
        let hypertable = job.hypertable.clone().unwrap_or_default();
        let labels = [
            ("job_id", id.as_str()),
            ("kind", job.kind.as_str()),
            ("hypertable", hypertable.as_str()),
        ];
        sample(out, "ms5_job_runs_total", &labels, job.total_runs as f64);
        sample(
            out,
            "ms5_job_failures_total",
            &labels,
            job.total_failures as f64,
        );
        if let Some(finish) = job.last_successful_finish {
            let age = (now - finish).num_milliseconds() as f64 / 1000.0;
            sample(
                out,
                "ms5_job_last_success_age_seconds",
                &labels,
                age.max(0.0),
            );
        }
        if job.kind == "policy_compression" && !job.running {
            let left = job.left_behind.as_ref().map_or(0, |left| left.count);
            sample(out, "ms5_job_chunks_left_behind", &labels, left as f64);
        }
    }

    family(
        out,
        "ms5_continuous_aggregate_refresh_lag_seconds",
        "gauge",
        "How far the continuous aggregate's watermark is behind now.",
    );
    for cagg in &snapshot.continuous_aggregates {
        if let Some(lag) = cagg.refresh_lag_seconds {
            let view = tsdb::ident::display_name(&cagg.schema, &cagg.name);
            sample(
                out,
                "ms5_continuous_aggregate_refresh_lag_seconds",
                &[("view", &view), ("hypertable", &cagg.source)],
                lag,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("hypertable", "a\"b\\c\nd")], 1.0);
        assert_eq!(out, "m{hypertable=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn without_a_snapshot_only_liveness_is_reported() {
        let text = render(None, None, false, &[], std::time::Instant::now());
        assert!(text.contains("ms5_database_up 0\n"), "{text}");
        assert!(text.contains("ms5_timescaledb_up 0\n"), "{text}");
        assert!(!text.contains("ms5_hypertable_bytes"), "{text}");
        assert!(text.contains("# TYPE ms5_scrape_duration_seconds gauge"));
    }

    #[test]
    fn open_alerts_are_counted_by_kind_and_named_by_job() {
        let now = chrono::Utc::now();
        let alert = |job_id, kind, acknowledged: bool| Alert {
            id: job_id,
            job_id,
            kind,
            job_kind: "policy_compression".into(),
            hypertable: Some("factory_telemetry.metric_hist".into()),
            message: "failed".into(),
            raised_at: now,
            last_seen_at: now,
            acknowledged_at: acknowledged.then_some(now),
            acknowledged_by: acknowledged.then(|| "olga".into()),
            cleared_at: None,
        };
        let quiet = render(None, None, true, &[], std::time::Instant::now());
        assert!(
            quiet.contains("ms5_alerts_open{kind=\"failing\"} 0\n"),
            "{quiet}"
        );
        assert!(
            quiet.contains("ms5_alerts_open{kind=\"stale\"} 0\n")
                && quiet.contains("ms5_alerts_open{kind=\"partly_failing\"} 0\n"),
            "{quiet}"
        );
        let alerts = [
            alert(1000, AlertKind::Failing, false),
            alert(1001, AlertKind::Failing, true),
            alert(1002, AlertKind::Stale, false),
        ];
        let text = render(None, None, true, &alerts, std::time::Instant::now());
        assert!(
            text.contains("ms5_alerts_open{kind=\"failing\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("ms5_alerts_open{kind=\"stale\"} 1\n"),
            "{text}"
        );
        assert!(text.contains(
            "ms5_job_alert{job_id=\"1001\",kind=\"failing\",job_kind=\"policy_compression\",hypertable=\"factory_telemetry.metric_hist\",acknowledged=\"true\"} 1\n"
        ), "{text}");
    }
}
