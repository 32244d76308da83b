//! The status a page is answered with, decided before it streams. Pages render their own
//! "not found" and "invalid filter" explanations, but a streamed page has sent its 200 by
//! the time a resource fails; what the server already knows (the published snapshot, the
//! chunk filters' parser) decides the status up front, without asking the database.

use app::error::AppError;
use app::state::AppState;
use axum::http::StatusCode;
use percent_encoding::percent_decode_str;
use tsdb::chunk_query::ChunkQuery;

/// The status for the page at `path?query`, when it is not 200.
pub fn status(state: &AppState, path: &str, query: Option<&str>) -> Option<StatusCode> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        // The hypertable pages read the snapshot too, so both agree. The policy and job
        // pages read the database: an object created since the last pass (at most one
        // monitoring interval ago; the console's own changes ask for a pass at once) may
        // be shown under a 404 until the next one.
        ["hypertables", schema, name] | ["hypertables", schema, name, "advisor"] => {
            match state.monitor.hypertable(schema, name) {
                Err(AppError::NotFound(_)) => Some(StatusCode::NOT_FOUND),
                _ => None,
            }
        }
        // A policy page is a hypertable's or a continuous aggregate's.
        ["policies", schema, name] => match state.monitor.hypertable(schema, name) {
            Err(AppError::NotFound(_)) => {
                let aggregate = state.monitor.snapshot().is_some_and(|s| {
                    s.continuous_aggregates
                        .iter()
                        .any(|c| c.schema == *schema && c.name == *name)
                });
                (!aggregate).then_some(StatusCode::NOT_FOUND)
            }
            _ => None,
        },
        ["admin", "audit", id, "revert"] => id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .is_none()
            .then_some(StatusCode::BAD_REQUEST),
        ["jobs", id] => match tsdb::jobs::parse_job_id(id) {
            Err(_) => Some(StatusCode::BAD_REQUEST),
            Ok(id) => state
                .monitor
                .snapshot()
                .is_some_and(|s| !s.jobs.iter().any(|j| j.id == i64::from(id)))
                .then_some(StatusCode::NOT_FOUND),
        },
        ["chunks"] => {
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(query.unwrap_or("").as_bytes())
                    .into_owned()
                    .collect();
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
            };
            ChunkQuery::parse(get)
                .is_err()
                .then_some(StatusCode::BAD_REQUEST)
        }
        _ => None,
    }
}
