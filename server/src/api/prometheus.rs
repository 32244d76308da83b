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

/// One metric family being written: its HELP and TYPE lines first, then its samples, all
/// in one group as the exposition format requires. Each name is written once, here.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out, name }
    }

    /// A value that goes up and down.
    fn gauge(out: &'a mut String, name: &'static str, help: &str) -> Self {
        Self::new(out, name, "gauge", help)
    }

    /// A count that only grows.
    fn counter(out: &'a mut String, name: &'static str, help: &str) -> Self {
        Self::new(out, name, "counter", help)
    }

    /// Writes one sample of the family.
    fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", labels.join(","))
        };
        let _ = writeln!(self.out, "{}{labels} {value}", self.name);
        self
    }
}

/// 1 or 0.
fn flag(on: bool) -> f64 {
    f64::from(u8::from(on))
}

/// The snapshot's facts as exposition text: the bulk of a scrape, and a function of the
/// snapshot alone (so the handler renders it once per snapshot).
pub fn facts(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    render_facts(&mut out, snapshot);
    out
}

/// Renders the exposition. `snapshot` is `None` before the first pass finished;
/// `age_seconds` is how old it is; `alerts` the open job alerts; `scrape_started` when
/// rendering began; `facts` the snapshot's [`facts`], rendered once per snapshot.
pub fn render(
    snapshot: Option<&Snapshot>,
    age_seconds: Option<f64>,
    database_up: bool,
    alerts: &[Alert],
    scrape_started: std::time::Instant,
    facts: Option<&str>,
) -> String {
    let mut out = String::new();
    render_alerts(&mut out, alerts);
    Family::gauge(
        &mut out,
        "ms5_database_up",
        "Whether the console reached the database on its last attempt (1) or not (0).",
    )
    .sample(&[], flag(database_up));
    Family::gauge(
        &mut out,
        "ms5_timescaledb_up",
        "Whether the TimescaleDB extension is installed in a supported version (1) or not (0).",
    )
    .sample(&[], flag(snapshot.is_some_and(|s| s.timescaledb.is_some())));
    if let (Some(snapshot), Some(age)) = (snapshot, age_seconds) {
        Family::gauge(
            &mut out,
            "ms5_snapshot_age_seconds",
            "Age of the catalog snapshot these figures come from.",
        )
        .sample(&[], age);
        Family::gauge(
            &mut out,
            "ms5_snapshot_pass_seconds",
            "Duration of the catalog pass that produced the snapshot.",
        )
        .sample(&[], snapshot.pass_seconds);
        out.push_str(facts.unwrap_or_default());
    }
    Family::gauge(
        &mut out,
        "ms5_scrape_duration_seconds",
        "Time taken to render this exposition.",
    )
    .sample(&[], scrape_started.elapsed().as_secs_f64());
    out
}

/// How this instance answered "who is asking": from its cache or by asking the database.
/// A high `database` rate under steady traffic means the cache is not doing its job.
pub fn render_credentials(out: &mut String, counts: app::auth::cache::CacheCounts) {
    Family::counter(
        out,
        "ms5_credential_checks_total",
        "Requests whose session or API token was checked, by what answered (cache or database).",
    )
    .sample(&[("answered_by", "cache")], counts.hits as f64)
    .sample(&[("answered_by", "database")], counts.lookups as f64);
    Family::counter(
        out,
        "ms5_session_record_reads_total",
        "Session records read from the database (the others came from the cache).",
    )
    .sample(&[], counts.record_reads as f64);
}

/// Open alerts by kind (every kind, zero included, so a rule can test `> 0`), and one
/// series per open alert naming its job.
fn render_alerts(out: &mut String, alerts: &[Alert]) {
    let mut open = Family::gauge(
        out,
        "ms5_alerts_open",
        "Open job alerts (failing: the latest run failed; stale: no success in time; \
         partly_failing: a successful compression run left chunks uncompressed).",
    );
    for kind in AlertKind::ALL {
        let count = alerts.iter().filter(|a| a.kind == kind).count();
        open.sample(&[("kind", kind.as_str())], count as f64);
    }
    let mut each = Family::gauge(
        out,
        "ms5_job_alert",
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
        each.sample(
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

/// Reads one figure of a job, if it has it.
type JobFigure = fn(&tsdb::facts::JobFacts, chrono::DateTime<chrono::Utc>) -> Option<f64>;

fn render_facts(out: &mut String, snapshot: &Snapshot) {
    let db = &snapshot.database;
    Family::gauge(out, "ms5_database_size_bytes", "Size of the database.")
        .sample(&[("database", &db.name)], db.size_bytes as f64);
    Family::gauge(
        out,
        "ms5_database_connections",
        "Backends connected to the database.",
    )
    .sample(&[("database", &db.name)], db.connections as f64);
    if let Some(ext) = &snapshot.timescaledb {
        Family::gauge(
            out,
            "ms5_catalog_public_api_only",
            "Whether this snapshot was read through TimescaleDB's public API only (1: the internal catalog is not as the console knows it; slower, aggregates' watermarks unknown) or the internal catalog (0).",
        )
        .sample(&[], flag(snapshot.catalog_fallback.is_some()));
        let mut workers = Family::gauge(
            out,
            "ms5_timescaledb_background_workers",
            "TimescaleDB background workers in use and allowed.",
        );
        workers.sample(&[("state", "in_use")], ext.background_workers_in_use as f64);
        if let Some(max) = ext.max_background_workers {
            workers.sample(&[("state", "max")], max as f64);
        }
    }

    let per_hypertable: [(&'static str, &str, Getter); 6] = [
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
        let mut family = Family::gauge(out, name, help);
        for h in &snapshot.hypertables {
            family.sample(&[("hypertable", &h.qualified())], value(h));
        }
    }

    let per_job: [(&'static str, &str, &str, JobFigure); 4] = [
        (
            "ms5_job_runs_total",
            "counter",
            "Runs of the background job.",
            |job, _| Some(job.total_runs as f64),
        ),
        (
            "ms5_job_failures_total",
            "counter",
            "Failed runs of the background job.",
            |job, _| Some(job.total_failures as f64),
        ),
        (
            "ms5_job_last_success_age_seconds",
            "gauge",
            "Time since the job's last successful run ended.",
            |job, now| {
                let finish = job.last_successful_finish?;
                Some(((now - finish).num_milliseconds() as f64 / 1000.0).max(0.0))
            },
        ),
        (
            "ms5_job_chunks_left_behind",
            "gauge",
            "Chunks past compress-after a compression job's last successful run left uncompressed \
             (none while it runs).",
            |job, _| {
                (job.kind == "policy_compression" && !job.running)
                    .then(|| job.left_behind.as_ref().map_or(0, |left| left.count) as f64)
            },
        ),
    ];
    let now = snapshot.taken_at;
    for (name, kind, help, figure) in per_job {
        let mut family = Family::new(out, name, kind, help);
        for job in &snapshot.jobs {
            let Some(value) = figure(job, now) else {
                continue;
            };
            let id = job.id.to_string();
            let hypertable = job.hypertable.clone().unwrap_or_default();
            family.sample(
                &[
                    ("job_id", id.as_str()),
                    ("kind", job.kind.as_str()),
                    ("hypertable", hypertable.as_str()),
                ],
                value,
            );
        }
    }

    let mut lag = Family::gauge(
        out,
        "ms5_continuous_aggregate_refresh_lag_seconds",
        "How far the continuous aggregate's watermark is behind now.",
    );
    for cagg in &snapshot.continuous_aggregates {
        if let Some(seconds) = cagg.refresh_lag_seconds {
            let view = tsdb::ident::display_name(&cagg.schema, &cagg.name);
            lag.sample(&[("view", &view), ("hypertable", &cagg.source)], seconds);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        Family::gauge(&mut out, "m", "h").sample(&[("hypertable", "a\"b\\c\nd")], 1.0);
        assert!(
            out.ends_with("m{hypertable=\"a\\\"b\\\\c\\nd\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn without_a_snapshot_only_liveness_is_reported() {
        let text = render(None, None, false, &[], std::time::Instant::now(), None);
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
        let quiet = render(None, None, true, &[], std::time::Instant::now(), None);
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
        let text = render(None, None, true, &alerts, std::time::Instant::now(), None);
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

    /// Each family's samples in one group after its TYPE line, as Prometheus' format wants
    /// (the job families' samples used to interleave, one job after another).
    #[test]
    fn every_family_is_one_group() {
        let now = chrono::Utc::now();
        let job = |id| tsdb::facts::JobFacts::example(id, now);
        let database = tsdb::facts::DatabaseFacts {
            name: "ms5".into(),
            server_version: "17".into(),
            size_bytes: 1,
            connections: 1,
            max_connections: 100,
        };
        let snapshot = Snapshot {
            taken_at: now,
            jobs: vec![job(1000), job(1001)],
            ..Snapshot::without_timescaledb(database, 0.1)
        };
        let facts = facts(&snapshot);
        let mut text = render(
            Some(&snapshot),
            Some(1.0),
            true,
            &[],
            std::time::Instant::now(),
            Some(&facts),
        );
        render_credentials(&mut text, Default::default());
        let mut done: Vec<String> = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let name = match line.strip_prefix("# TYPE ") {
                Some(rest) => rest.split(' ').next().unwrap_or_default().to_string(),
                None if line.starts_with('#') => continue,
                None => line
                    .split(['{', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            };
            if name != current {
                assert!(!done.contains(&name), "{name} is in two groups:\n{text}");
                assert!(
                    line.starts_with("# TYPE"),
                    "{name} has a sample before its TYPE"
                );
                done.push(std::mem::replace(&mut current, name));
            }
        }
        assert!(
            text.contains("ms5_job_runs_total{job_id=\"1001\""),
            "{text}"
        );
        assert!(
            text.contains("ms5_job_chunks_left_behind{job_id=\"1000\""),
            "{text}"
        );
    }
}
