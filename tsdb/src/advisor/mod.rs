//! The compression advisor: for one hypertable, a suggested segment-by and order-by with
//! one sentence of reasoning each, from the columns' distinct counts in a recent chunk,
//! their types and the indexes (`inspect` reads them; `suggest` is pure), beside
//! TimescaleDB's own defaults where the database offers them (2.14+) and the measured
//! effect of the current settings; and on request a trial (`trial`): a recent chunk's copy
//! compressed in a scratch schema with the current and the suggested settings, inside a
//! transaction that is always rolled back, so nothing is left behind.

#[cfg(feature = "db")]
pub mod inspect;
#[cfg(feature = "db")]
pub mod trial;

use serde::{Deserialize, Serialize};

/// Fewer rows than this per segment of a chunk make batches too small to compress well.
pub const MIN_SEGMENT_ROWS: f64 = 100.0;
/// TimescaleDB packs up to this many rows in a batch.
pub const BATCH_ROWS: f64 = 1000.0;

/// One column of the hypertable, as the advisor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnFacts {
    /// Name.
    pub name: String,
    /// Type, as `format_type` prints it.
    pub type_name: String,
    /// Distinct values in the sample chunk (estimated or counted).
    pub distinct: Option<f64>,
    /// Whether `distinct` was counted (else from `pg_stats`).
    pub counted: bool,
    /// `pg_stats` correlation with the physical order, where analyzed.
    pub correlation: Option<f64>,
    /// Whether it is the time dimension.
    pub is_time: bool,
    /// Whether a type like it can segment (not floating point, JSON or large text).
    pub segmentable: bool,
}

/// An index of the hypertable: its name and columns in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexFacts {
    /// Index name.
    pub name: String,
    /// Key columns in order (expressions left out).
    pub columns: Vec<String>,
}

/// A suggested setting with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suggestion {
    /// Columns (segment-by) or items (order-by, with `DESC`).
    pub items: Vec<String>,
    /// Why, in one sentence.
    pub reason: String,
}

/// What TimescaleDB's own advice functions say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngineDefault {
    /// Columns or order-by clauses.
    pub items: Vec<String>,
    /// 0 to 10 (10 most sure).
    pub confidence: Option<i64>,
    /// Its message, when it has one.
    pub message: Option<String>,
}

/// The current settings and what they do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Current {
    /// Whether compression is enabled.
    pub enabled: bool,
    /// Segment-by columns.
    pub segment_by: Vec<String>,
    /// Order-by items.
    pub order_by: Vec<String>,
    /// Rows per batch in the latest compressed chunks, when any are compressed.
    pub rows_per_batch: Option<f64>,
    /// Bytes before / after over every compressed chunk.
    pub ratio: Option<f64>,
    /// The measured effect in words.
    pub verdict: String,
}

/// Everything the advisor says about one hypertable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Advice {
    /// `schema.name`.
    pub relation: String,
    /// The chunk the figures come from, `schema.name`; none for an empty table.
    pub sample_chunk: Option<String>,
    /// Rows in that chunk.
    pub sample_rows: i64,
    /// The columns.
    pub columns: Vec<ColumnFacts>,
    /// The indexes.
    pub indexes: Vec<IndexFacts>,
    /// The suggested segment-by.
    pub segment_by: Suggestion,
    /// The suggested order-by.
    pub order_by: Suggestion,
    /// TimescaleDB's segment-by default, where offered.
    pub engine_segment_by: Option<EngineDefault>,
    /// TimescaleDB's order-by default, where offered.
    pub engine_order_by: Option<EngineDefault>,
    /// The current settings.
    pub current: Current,
}

/// The result of compressing a chunk's copy with some settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrialResult {
    /// What was tried (`current` or `suggested`).
    pub label: String,
    /// Segment-by used.
    pub segment_by: Vec<String>,
    /// Order-by used.
    pub order_by: Vec<String>,
    /// Bytes before compression.
    pub before_bytes: i64,
    /// Bytes after.
    pub after_bytes: i64,
    /// Rows per batch.
    pub rows_per_batch: Option<f64>,
}

impl TrialResult {
    /// before / after.
    pub fn ratio(&self) -> Option<f64> {
        crate::facts::HypertableFacts::ratio_of(self.before_bytes, self.after_bytes)
    }
}

/// A trial of one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trial {
    /// The copied chunk, `schema.name`.
    pub chunk: String,
    /// Its rows.
    pub rows: i64,
    /// Each setting tried.
    pub results: Vec<TrialResult>,
    /// How long it took.
    pub seconds: f64,
}

/// Suggests segment-by and order-by from the columns, indexes and rows per chunk.
pub fn suggest(
    columns: &[ColumnFacts],
    indexes: &[IndexFacts],
    rows: i64,
) -> (Suggestion, Suggestion) {
    let time = columns.iter().find(|c| c.is_time).map(|c| c.name.clone());
    let rows = rows.max(0) as f64;
    // Indexes that include the time column show how the table is queried.
    let query_index = |column: &str| {
        indexes.iter().find(|i| {
            i.columns.iter().any(|c| Some(c) == time.as_ref())
                && i.columns.first().is_some_and(|c| c == column)
        })
    };
    let in_index = |column: &str| {
        indexes.iter().any(|i| {
            i.columns.iter().any(|c| Some(c) == time.as_ref())
                && i.columns.iter().any(|c| c == column)
        })
    };
    let mut candidates: Vec<(&ColumnFacts, f64)> = columns
        .iter()
        .filter(|c| c.segmentable && !c.is_time)
        .filter_map(|c| {
            let distinct = c.distinct?;
            (distinct >= 2.0 && rows / distinct >= MIN_SEGMENT_ROWS).then_some((c, distinct))
        })
        .collect();
    // Prefer columns queries filter by (leading an index with time, then in one), then
    // segments nearest to a full batch of rows.
    candidates.sort_by(|a, b| {
        let rank = |c: &ColumnFacts, distinct: f64| {
            let index = if query_index(&c.name).is_some() {
                0
            } else if in_index(&c.name) {
                1
            } else {
                2
            };
            let per_segment = rows / distinct;
            (
                index,
                (per_segment.max(1.0).log10() - BATCH_ROWS.log10()).abs(),
            )
        };
        let (ia, da) = rank(a.0, a.1);
        let (ib, db) = rank(b.0, b.1);
        ia.cmp(&ib).then(da.total_cmp(&db))
    });
    let time_name = time.clone().unwrap_or_else(|| "the time column".into());
    let segment = match candidates.first() {
        Some((column, distinct)) => {
            let why_index = match query_index(&column.name) {
                Some(index) => format!(
                    ", and it leads the index {} with {time_name}, so queries filter by it",
                    index.name
                ),
                None if in_index(&column.name) => {
                    format!(", and an index pairs it with {time_name}")
                }
                None => String::new(),
            };
            Suggestion {
                items: vec![column.name.clone()],
                reason: format!(
                    "{}: {:.0} distinct values in a chunk of {:.0} rows, so each segment holds about {:.0} rows (batches hold up to {BATCH_ROWS:.0}; fewer than {MIN_SEGMENT_ROWS:.0} compress poorly){why_index}.",
                    column.name,
                    distinct,
                    rows,
                    rows / distinct
                ),
            }
        }
        None => Suggestion {
            items: Vec::new(),
            reason: if rows < MIN_SEGMENT_ROWS * 2.0 {
                format!("No segment-by: a chunk holds only {rows:.0} rows, too few to split.")
            } else {
                format!(
                    "No segment-by: no column has few enough distinct values to leave {MIN_SEGMENT_ROWS:.0} rows per segment of a {rows:.0}-row chunk; batches then follow {time_name} alone."
                )
            },
        },
    };
    // Order by what the query index has after the segment-by, then time, newest first.
    let mut order: Vec<String> = Vec::new();
    let mut leading = Vec::new();
    if let Some(index) = segment.items.first().and_then(|c| query_index(c)) {
        for column in index.columns.iter().skip(1) {
            if Some(column) == time.as_ref() {
                break;
            }
            if !segment.items.contains(column) {
                leading.push(column.clone());
            }
        }
    }
    order.extend(leading.iter().cloned());
    if let Some(time) = &time {
        order.push(format!("{time} DESC"));
    }
    let order_reason = if leading.is_empty() {
        format!(
            "{time_name} DESC: recent rows are read first and each batch covers a narrow time range, so its min/max metadata lets queries skip it."
        )
    } else {
        format!(
            "{} then {time_name} DESC: the query index filters on {} after the segment-by, so batches sorted by it can be skipped by their min/max metadata, and time keeps each batch's range narrow.",
            leading.join(", "),
            leading.join(", ")
        )
    };
    (
        segment,
        Suggestion {
            items: order,
            reason: order_reason,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, distinct: Option<f64>, segmentable: bool) -> ColumnFacts {
        ColumnFacts {
            name: name.into(),
            type_name: "text".into(),
            distinct,
            counted: true,
            correlation: None,
            is_time: name == "ts",
            segmentable,
        }
    }

    #[test]
    fn the_indexed_low_cardinality_column_segments_and_the_rest_of_the_index_orders() {
        let columns = [
            column("ts", Some(80_000.0), true),
            column("device", Some(12.0), true),
            column("metric", Some(8.0), true),
            column("value", Some(50_000.0), false),
        ];
        let indexes = [IndexFacts {
            name: "by_device".into(),
            columns: vec!["device".into(), "metric".into(), "ts".into()],
        }];
        let (segment, order) = suggest(&columns, &indexes, 100_000);
        assert_eq!(segment.items, ["device"]);
        assert!(
            segment.reason.contains("leads the index by_device"),
            "{}",
            segment.reason
        );
        assert_eq!(order.items, ["metric", "ts DESC"]);
    }

    #[test]
    fn a_column_too_fine_for_the_chunk_is_not_suggested() {
        let columns = [
            column("ts", None, true),
            column("request_id", Some(50_000.0), true),
        ];
        let (segment, order) = suggest(&columns, &[], 60_000);
        assert!(segment.items.is_empty());
        assert!(segment.reason.starts_with("No segment-by"));
        assert_eq!(order.items, ["ts DESC"]);
    }

    #[test]
    fn without_indexes_segments_nearest_a_full_batch_win() {
        let columns = [
            column("ts", None, true),
            column("line", Some(3.0), true),
            column("machine", Some(40.0), true),
        ];
        // 40,000 rows: 40 machines give 1,000-row segments, 3 lines give 13,333.
        let (segment, _) = suggest(&columns, &[], 40_000);
        assert_eq!(segment.items, ["machine"]);
    }
}
