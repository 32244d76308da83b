//! The storage outlook managers read before a budget meeting: each hypertable's and the
//! database's bytes out to a horizon (the forecast of `forecast`, fed with the ingest
//! measured from the samples and the lifecycle of the live policies), the day a budget is
//! reached, and what a policy change would buy at the horizon.
//!
//! Ingest is measured on the raw-equivalent bytes (uncompressed plus what compressed
//! chunks held before compression), so compression does not look like shrinking ingest;
//! drops between samples (retention, a manual `drop_chunks`) are added back, so the line
//! follows what arrived, not what was kept.

use super::forecast::{self, day_reaching, Forecast, Holding, Lifecycle, Point, Sample};
use super::trends::days_between;
use super::{RelationKind, StorageSample};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The storage limit the forecast is held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Budget {
    /// A budget in bytes for the database (`MS5_STORAGE_BUDGET`).
    pub bytes: Option<u64>,
    /// The free space of the database's volume (`MS5_STORAGE_VOLUME_FREE`): the limit is
    /// today's size plus this.
    pub volume_free_bytes: Option<u64>,
}

/// The effective storage limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Limit {
    /// Bytes.
    pub bytes: f64,
    /// Where it comes from: the budget or the volume's free space.
    pub source: String,
}

impl Budget {
    /// The effective limit, the tighter of the two.
    pub fn limit(&self, database_now: f64) -> Option<Limit> {
        let budget = self.bytes.map(|b| Limit {
            bytes: b as f64,
            source: "the storage budget".into(),
        });
        let volume = self.volume_free_bytes.map(|free| Limit {
            bytes: database_now + free as f64,
            source: "the volume's free space".into(),
        });
        match (budget, volume) {
            (Some(b), Some(v)) => Some(if v.bytes < b.bytes { v } else { b }),
            (b, v) => b.or(v),
        }
    }
}

/// What the live policies and the catalog say about one relation today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableState {
    /// `schema.name`.
    pub relation: String,
    /// Hypertable or continuous aggregate.
    pub kind: RelationKind,
    /// Bytes on disk now.
    pub bytes_now: f64,
    /// Days of data held (the oldest chunk's age).
    pub held_days: f64,
    /// What the policies do with age.
    pub lifecycle: Lifecycle,
    /// Whether `compressed_fraction` was measured on this table (else assumed).
    pub ratio_measured: bool,
    /// Whether compression is enabled (a policy can be added without new settings).
    pub compression_enabled: bool,
}

/// One relation's outlook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableOutlook {
    /// `schema.name`.
    pub relation: String,
    /// Hypertable or continuous aggregate.
    pub kind: RelationKind,
    /// Bytes now.
    pub bytes_now: f64,
    /// The policies, in words.
    pub lifecycle: String,
    /// Measured ingest, raw-equivalent bytes per day.
    pub ingest_per_day: Option<f64>,
    /// The forecast; none without enough history.
    pub forecast: Option<Forecast>,
    /// Why there is no forecast or why it is weak, in words.
    pub note: Option<String>,
}

impl TableOutlook {
    /// Expected bytes at the horizon.
    pub fn at_horizon(&self) -> Option<f64> {
        Some(self.forecast.as_ref()?.points.last()?.bytes)
    }
}

/// What one policy change would buy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatIf {
    /// The hypertable.
    pub relation: String,
    /// The change, in words: "compress after 3 days instead of 7".
    pub change: String,
    /// Bytes saved at the horizon (positive is less storage).
    pub saved_bytes: f64,
    /// The day the database would reach the limit with the change.
    pub budget_day: Option<u32>,
    /// Whether the saving rests on an assumed compression ratio.
    pub assumed_ratio: bool,
}

/// Everything the forecast section shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outlook {
    /// When it was computed (day 0).
    pub computed_at: DateTime<Utc>,
    /// Days ahead.
    pub horizon_days: u32,
    /// The database's bytes now.
    pub database_now: f64,
    /// The database: the relations' forecasts plus the rest of the database as it is.
    pub database: Option<Forecast>,
    /// The limit, if one is configured.
    pub limit: Option<Limit>,
    /// Days until the database reaches the limit, within the horizon.
    pub budget_day: Option<u32>,
    /// Per relation, biggest at the horizon first.
    pub tables: Vec<TableOutlook>,
    /// Policy changes and what they would save, biggest saving first.
    pub what_ifs: Vec<WhatIf>,
    /// Whether a job scheduler runs the policies; without one they act only when run by
    /// hand, and the forecast shows what they would do.
    #[serde(default = "yes")]
    pub policies_run: bool,
}

fn yes() -> bool {
    true
}

impl Outlook {
    /// The date the limit is reached, if within the horizon.
    pub fn budget_date(&self) -> Option<DateTime<Utc>> {
        self.budget_day
            .map(|d| self.computed_at + Duration::days(i64::from(d)))
    }
}

/// The compressed fraction assumed when no table has compressed anything yet (10×; tables
/// that have not compressed yet borrow the median of those that have).
pub const ASSUMED_FRACTION: f64 = 0.1;
/// Only the last this many days of samples measure the ingest: recent behaviour matters.
pub const FIT_DAYS: f64 = 30.0;
/// One sample per this many seconds is plenty for a 30-day line (120 points) and keeps
/// the read small: hourly samples of 100 tables are 72,000 rows, these 12,000.
pub const FIT_BUCKET_SECONDS: i64 = 6 * 3600;
/// What-ifs are offered for this many of the biggest tables.
const WHAT_IF_TABLES: usize = 4;

/// The outlook from the relations' states, their samples (any order) and the budget.
pub fn outlook(
    states: &[TableState],
    samples: &[StorageSample],
    database_now: f64,
    budget: Budget,
    horizon_days: u32,
    now: DateTime<Utc>,
) -> Outlook {
    let limit = budget.limit(database_now);
    let mut tables: Vec<(TableOutlook, &TableState, Vec<Sample>)> = states
        .iter()
        .map(|state| {
            let ingest = ingest_series(samples, &state.relation, now);
            (table_outlook(state, &ingest, horizon_days), state, ingest)
        })
        .collect();
    tables.sort_by(|a, b| {
        let key = |t: &TableOutlook| t.at_horizon().unwrap_or(t.bytes_now);
        key(&b.0).total_cmp(&key(&a.0))
    });
    let forecasts: Vec<&Forecast> = tables
        .iter()
        .filter_map(|t| t.0.forecast.as_ref())
        .collect();
    let covered: f64 = tables
        .iter()
        .filter(|t| t.0.forecast.is_some())
        .map(|t| t.0.bytes_now)
        .sum();
    let database = (!forecasts.is_empty())
        .then(|| sum_forecasts(&forecasts, (database_now - covered).max(0.0), horizon_days));
    let budget_day = limit
        .as_ref()
        .zip(database.as_ref())
        .and_then(|(limit, db)| day_reaching(db, limit.bytes));

    let mut what_ifs = Vec::new();
    for (outlook, state, ingest) in tables
        .iter()
        .filter(|t| t.0.kind == RelationKind::Hypertable && t.0.forecast.is_some())
        .take(WHAT_IF_TABLES)
    {
        for (change, lifecycle, assumed) in alternatives(state) {
            let Some(changed) = forecast::forecast_changed(
                ingest,
                holding(state),
                state.lifecycle,
                lifecycle,
                horizon_days,
            ) else {
                continue;
            };
            let (Some(base), Some(db)) = (outlook.forecast.as_ref(), database.as_ref()) else {
                continue;
            };
            let saved = base.points.last().map_or(0.0, |p| p.bytes)
                - changed.points.last().map_or(0.0, |p| p.bytes);
            if saved.abs() < (0.01 * state.bytes_now).max(1024.0 * 1024.0) {
                continue;
            }
            let with_change = Forecast {
                points: db
                    .points
                    .iter()
                    .zip(&base.points)
                    .zip(&changed.points)
                    .map(|((d, b), c)| Point {
                        day: d.day,
                        bytes: d.bytes - b.bytes + c.bytes,
                        low: d.low - b.low + c.low,
                        high: d.high - b.high + c.high,
                    })
                    .collect(),
                ..db.clone()
            };
            what_ifs.push(WhatIf {
                relation: state.relation.clone(),
                change,
                saved_bytes: saved,
                budget_day: limit
                    .as_ref()
                    .and_then(|limit| day_reaching(&with_change, limit.bytes)),
                assumed_ratio: assumed,
            });
        }
    }
    what_ifs.sort_by(|a, b| b.saved_bytes.total_cmp(&a.saved_bytes));
    Outlook {
        computed_at: now,
        horizon_days,
        database_now,
        database,
        limit,
        budget_day,
        tables: tables.into_iter().map(|t| t.0).collect(),
        what_ifs,
        policies_run: true,
    }
}

/// Raw-equivalent bytes of `relation` over the last [`FIT_DAYS`], days relative to `now`
/// (negative), with drops added back.
fn ingest_series(samples: &[StorageSample], relation: &str, now: DateTime<Utc>) -> Vec<Sample> {
    let mut history: Vec<&StorageSample> = samples
        .iter()
        .filter(|s| s.relation == relation && s.kind != RelationKind::Database)
        .filter(|s| days_between(s.sampled_at, now) <= FIT_DAYS)
        .collect();
    history.sort_by_key(|s| s.sampled_at);
    // A step that shrinks hid the ingest of its interval under the drop: assume the rate
    // of the step before it continued.
    let mut dropped = 0.0;
    let mut previous: Option<(f64, f64)> = None;
    let mut rate = 0.0;
    history
        .iter()
        .map(|s| {
            let raw = s.raw_equivalent_bytes() as f64;
            let day = -days_between(s.sampled_at, now);
            if let Some((before, before_day)) = previous {
                let elapsed = day - before_day;
                if raw < before {
                    dropped += before - raw + rate * elapsed;
                } else if elapsed > 0.0 {
                    rate = (raw - before) / elapsed;
                }
            }
            previous = Some((raw, day));
            Sample {
                day,
                bytes: raw + dropped,
            }
        })
        .collect()
}

/// Today's holding of a table.
fn holding(state: &TableState) -> Holding {
    Holding {
        bytes: state.bytes_now,
        held_days: state.held_days,
    }
}

/// One relation's forecast, or why there is none.
fn table_outlook(state: &TableState, ingest: &[Sample], horizon_days: u32) -> TableOutlook {
    let forecast = forecast::forecast(ingest, holding(state), state.lifecycle, horizon_days);
    let note = match &forecast {
        None => Some(format!(
            "not enough history: {} sample(s) in the last {FIT_DAYS} days, at least 2 at different times needed",
            ingest.len()
        )),
        Some(f) if !f.confident => Some(format!(
            "low confidence: {} samples, r² {:.2} (growth is not steady)",
            f.fit.samples, f.fit.r_squared
        )),
        Some(_) if !state.ratio_measured && state.lifecycle.compress_after_days.is_some() => {
            Some(format!(
                "nothing compressed yet: a {:.0}× ratio is assumed",
                1.0 / state.lifecycle.compressed_fraction
            ))
        }
        Some(_) => None,
    };
    TableOutlook {
        relation: state.relation.clone(),
        kind: state.kind,
        bytes_now: state.bytes_now,
        lifecycle: describe(&state.lifecycle),
        ingest_per_day: forecast.as_ref().map(|f| f.fit.bytes_per_day.max(0.0)),
        forecast,
        note,
    }
}

/// The policies in words.
pub fn describe(lifecycle: &Lifecycle) -> String {
    let days = |d: f64| {
        if (d - d.round()).abs() < 0.01 {
            format!("{} days", d.round())
        } else {
            format!("{d:.1} days")
        }
    };
    let compression = lifecycle.compress_after_days.map(|c| {
        format!(
            "compressed after {} ({:.1}× smaller)",
            days(c),
            1.0 / lifecycle.compressed_fraction.max(f64::EPSILON)
        )
    });
    let retention = lifecycle
        .retention_days
        .map(|r| format!("dropped after {}", days(r)));
    match (compression, retention) {
        (None, None) => "no compression or retention: grows on its raw line".into(),
        (Some(c), None) => format!("{c}; kept forever"),
        (None, Some(r)) => format!("never compressed; {r}"),
        (Some(c), Some(r)) => format!("{c}; {r}"),
    }
}

/// The policy changes worth pricing for one table: sooner compression, compression where
/// there is none, a retention where there is none, a shorter one where there is.
fn alternatives(state: &TableState) -> Vec<(String, Lifecycle, bool)> {
    let now = state.lifecycle;
    let mut changes = Vec::new();
    match now.compress_after_days {
        Some(days) if days >= 2.0 => {
            let sooner = (days / 2.0).floor().max(1.0);
            changes.push((
                format!("compress after {sooner} days instead of {}", days.round()),
                Lifecycle {
                    compress_after_days: Some(sooner),
                    ..now
                },
                !state.ratio_measured,
            ));
        }
        Some(_) => {}
        None => changes.push((
            "add a compression policy: compress after 7 days".to_string(),
            Lifecycle {
                compress_after_days: Some(7.0),
                ..now
            },
            !state.ratio_measured,
        )),
    }
    match now.retention_days {
        None => changes.push((
            "add a retention policy: drop data after 90 days".to_string(),
            Lifecycle {
                retention_days: Some(90.0),
                ..now
            },
            false,
        )),
        Some(days) if days > 14.0 => {
            let shorter = (days * 2.0 / 3.0).round();
            changes.push((
                format!("keep {shorter} days instead of {}", days.round()),
                Lifecycle {
                    retention_days: Some(shorter),
                    ..now
                },
                false,
            ));
        }
        Some(_) => {}
    }
    changes
        .into_iter()
        .filter(|(_, lifecycle, _)| {
            lifecycle
                .retention_days
                .is_none_or(|r| lifecycle.compress_after_days.is_none_or(|c| c < r))
        })
        .collect()
}

/// The database's forecast: the relations' forecasts and the rest of the database, which
/// is assumed to stay as it is.
fn sum_forecasts(forecasts: &[&Forecast], rest: f64, horizon_days: u32) -> Forecast {
    let points = (0..=horizon_days as usize)
        .map(|i| {
            let mut point = Point {
                day: i as u32,
                bytes: rest,
                low: rest,
                high: rest,
            };
            for f in forecasts {
                if let Some(p) = f.points.get(i) {
                    point.bytes += p.bytes;
                    point.low += p.low;
                    point.high += p.high;
                }
            }
            point
        })
        .collect();
    let confident = forecasts.iter().all(|f| f.confident);
    // The database's "fit" is the relations' together: rates add up, errors add up as
    // independent ones do, and it is only as good as its worst part.
    let fit = forecast::Fit {
        bytes_per_day: forecasts.iter().map(|f| f.fit.bytes_per_day.max(0.0)).sum(),
        intercept: 0.0,
        r_squared: forecasts
            .iter()
            .map(|f| f.fit.r_squared)
            .fold(1.0, f64::min),
        slope_error: forecasts
            .iter()
            .map(|f| f.fit.slope_error.powi(2))
            .sum::<f64>()
            .sqrt(),
        samples: forecasts.iter().map(|f| f.fit.samples).min().unwrap_or(0),
    };
    Forecast {
        fit,
        points,
        confident,
    }
}

/// Each hypertable's and continuous aggregate's state in a snapshot: bytes, the age of
/// its oldest chunk, and what its compression and retention policies do.
pub fn states_of(snapshot: &crate::facts::Snapshot) -> Vec<TableState> {
    use crate::interval::postgres_interval_seconds;
    let now = snapshot.taken_at;
    let days_of = |text: &str| postgres_interval_seconds(text).map(|s| s as f64 / 86_400.0);
    // A table that has compressed nothing yet is assumed to compress as the median of
    // those that have.
    let mut measured: Vec<f64> = snapshot
        .hypertables
        .iter()
        .filter(|h| h.before_compression_bytes > 0)
        .map(|h| h.after_compression_bytes as f64 / h.before_compression_bytes as f64)
        .collect();
    measured.sort_by(f64::total_cmp);
    let median = measured
        .get(measured.len() / 2)
        .copied()
        .unwrap_or(ASSUMED_FRACTION);
    let chunks = snapshot.chunks_by_hypertable();
    let mut states: Vec<TableState> = snapshot
        .hypertables
        .iter()
        .map(|h| {
            let relation = h.qualified();
            let oldest = chunks
                .get(&(h.schema.as_str(), h.name.as_str()))
                .into_iter()
                .flatten()
                .filter_map(|c| c.range_start)
                .min();
            let ratio_measured = h.before_compression_bytes > 0;
            let compressed_fraction = if ratio_measured {
                h.after_compression_bytes as f64 / h.before_compression_bytes as f64
            } else {
                median
            };
            TableState {
                kind: RelationKind::Hypertable,
                bytes_now: h.total_bytes as f64,
                held_days: oldest.map_or(0.0, |o| days_between(o, now).max(0.0)),
                lifecycle: Lifecycle {
                    compress_after_days: h.compress_after.as_deref().and_then(days_of),
                    compressed_fraction,
                    retention_days: snapshot.retention_days(&relation),
                },
                ratio_measured,
                compression_enabled: h.compression_enabled,
                relation,
            }
        })
        .collect();
    // An aggregate holds what its source holds (its own policies are not modelled).
    let source_days: std::collections::HashMap<String, f64> = states
        .iter()
        .map(|s| (s.relation.clone(), s.held_days))
        .collect();
    states.extend(snapshot.continuous_aggregates.iter().map(|c| TableState {
        relation: crate::ident::display_name(&c.schema, &c.name),
        kind: RelationKind::ContinuousAggregate,
        bytes_now: c.materialized_bytes as f64,
        held_days: source_days.get(&c.source).copied().unwrap_or(0.0),
        lifecycle: Lifecycle::default(),
        ratio_measured: false,
        compression_enabled: false,
    }));
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap()
    }

    /// Daily samples of `relation` over the last 20 days: raw-equivalent bytes grow by
    /// `rate` a day.
    fn history(relation: &str, rate: f64) -> Vec<StorageSample> {
        (0..=20)
            .map(|i| {
                let raw = (rate * f64::from(i)) as i64;
                StorageSample {
                    sampled_at: now() - Duration::days(i64::from(20 - i)),
                    kind: RelationKind::Hypertable,
                    relation: relation.into(),
                    total_bytes: raw,
                    compressed_bytes: 0,
                    uncompressed_bytes: raw,
                    before_compression_bytes: 0,
                    chunk_count: 0,
                    compressed_chunk_count: 0,
                    approximate_rows: 0,
                    generated: false,
                }
            })
            .collect()
    }

    fn state(relation: &str, bytes: f64, lifecycle: Lifecycle) -> TableState {
        TableState {
            relation: relation.into(),
            kind: RelationKind::Hypertable,
            bytes_now: bytes,
            held_days: 20.0,
            lifecycle,
            ratio_measured: true,
            compression_enabled: true,
        }
    }

    #[test]
    fn the_database_adds_the_tables_to_the_rest_and_reaches_the_budget() {
        let mut samples = history("s.raw", GIB);
        samples.extend(history("s.small", 0.1 * GIB));
        let states = [
            state("s.raw", 20.0 * GIB, Lifecycle::default()),
            state("s.small", 2.0 * GIB, Lifecycle::default()),
        ];
        let budget = Budget {
            bytes: Some((100.0 * GIB) as u64),
            volume_free_bytes: None,
        };
        let outlook = outlook(&states, &samples, 30.0 * GIB, budget, 90, now());
        let db = outlook.database.as_ref().unwrap();
        // 8 GiB outside the tables stay; the tables grow 1.1 GiB a day.
        let expected = 30.0 * GIB + 90.0 * 1.1 * GIB;
        assert!((db.points[90].bytes - expected).abs() / expected < 0.01);
        // 30 + 1.1 d ≥ 100 from day 64.
        assert_eq!(outlook.budget_day, Some(64));
        assert_eq!(outlook.tables[0].relation, "s.raw");
        assert_eq!(outlook.budget_date().unwrap(), now() + Duration::days(64));
    }

    #[test]
    fn a_volume_limit_tighter_than_the_budget_wins() {
        let budget = Budget {
            bytes: Some(1_000),
            volume_free_bytes: Some(100),
        };
        let limit = budget.limit(500.0).unwrap();
        assert_eq!(limit.bytes, 600.0);
        assert_eq!(limit.source, "the volume's free space");
        assert_eq!(Budget::default().limit(500.0), None);
    }

    #[test]
    fn sooner_compression_and_a_retention_are_priced() {
        let samples = history("s.metrics", GIB);
        let lifecycle = Lifecycle {
            compress_after_days: Some(7.0),
            compressed_fraction: 0.1,
            retention_days: None,
        };
        let held = 7.0 * GIB + 13.0 * 0.1 * GIB;
        let states = [state("s.metrics", held, lifecycle)];
        let outlook = outlook(&states, &samples, held, Budget::default(), 90, now());
        let change = |text: &str| {
            outlook
                .what_ifs
                .iter()
                .find(|w| w.change.contains(text))
                .unwrap_or_else(|| panic!("{text} in {:?}", outlook.what_ifs))
        };
        // Compressing after 3 days instead of 7 keeps 4 fewer raw days: 4 × 0.9 GiB.
        let sooner = change("compress after 3 days instead of 7");
        assert!(
            (sooner.saved_bytes - 4.0 * 0.9 * GIB).abs() / GIB < 0.05,
            "{sooner:?}"
        );
        // Keeping 90 days: at day 90 the table holds 90 days instead of 110.
        let retention = change("drop data after 90 days");
        assert!(
            (retention.saved_bytes - 20.0 * 0.1 * GIB).abs() / GIB < 0.05,
            "{retention:?}"
        );
        assert_eq!(outlook.what_ifs[0].change, sooner.change);
    }

    #[test]
    fn dropped_chunks_do_not_look_like_shrinking_ingest() {
        let mut samples = history("s.kept", GIB);
        // A retention drop of 5 GiB on day 10 onwards.
        for s in samples.iter_mut().skip(11) {
            s.total_bytes -= (5.0 * GIB) as i64;
            s.uncompressed_bytes -= (5.0 * GIB) as i64;
        }
        let ingest = ingest_series(&samples, "s.kept", now());
        let line = forecast::fit(&ingest).unwrap();
        assert!((line.bytes_per_day - GIB).abs() / GIB < 0.01, "{line:?}");
    }

    #[test]
    fn too_little_history_says_so() {
        let states = [state("s.new", GIB, Lifecycle::default())];
        let outlook = outlook(&states, &[], GIB, Budget::default(), 90, now());
        assert!(outlook.database.is_none());
        let note = outlook.tables[0].note.as_deref().unwrap();
        assert!(note.starts_with("not enough history"), "{note}");
    }
}
