//! Filtering, sorting and paging chunks of a snapshot: one definition for the REST
//! endpoint and the chunks page, so both accept and refuse the same input.

use crate::facts::ChunkFacts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The largest page.
pub const MAX_LIMIT: usize = 1000;
/// The default page.
pub const DEFAULT_LIMIT: usize = 100;

/// Sort orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChunkSort {
    /// Oldest range first (`range_start`).
    #[default]
    RangeStart,
    /// Newest range first (`-range_start`).
    RangeStartDesc,
    /// Smallest first (`total_bytes`).
    Bytes,
    /// Biggest first (`-total_bytes`).
    BytesDesc,
}

impl ChunkSort {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkSort::RangeStart => "range_start",
            ChunkSort::RangeStartDesc => "-range_start",
            ChunkSort::Bytes => "total_bytes",
            ChunkSort::BytesDesc => "-total_bytes",
        }
    }
}

/// Which chunks, in which order, which page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkQuery {
    /// One hypertable, as [`crate::ident::display_name`] writes it.
    pub hypertable: Option<String>,
    /// Chunks whose range ends after this.
    pub from: Option<DateTime<Utc>>,
    /// Chunks whose range starts before this.
    pub to: Option<DateTime<Utc>>,
    /// Only compressed (true) or uncompressed (false) chunks.
    pub compressed: Option<bool>,
    /// Order.
    pub sort: ChunkSort,
    /// Page size.
    pub limit: usize,
    /// Chunks skipped before the page.
    pub offset: usize,
}

/// One page of chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChunkPage {
    /// Chunks matching the filters in all.
    pub total: usize,
    /// Skipped before this page.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
    /// The page.
    pub chunks: Vec<ChunkFacts>,
}

fn time(name: &str, value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!("{name} {value:?}: expected an RFC 3339 time such as 2026-11-25T08:00:00Z")
        })
}

impl ChunkQuery {
    /// Reads `hypertable`, `from`, `to`, `compressed`, `sort`, `limit` and `offset`; the
    /// error names the parameter and the accepted form.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<ChunkQuery, String> {
        let text = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        // Kept in the one written form, so `"s"."a"` and `s.a` select the same chunks.
        let hypertable = text("hypertable")
            .map(|h| {
                crate::ident::normalize_display_name(&h)
                    .map_err(|form| format!("hypertable {h:?}: expected {form}"))
            })
            .transpose()?;
        let from = text("from").map(|v| time("from", &v)).transpose()?;
        let to = text("to").map(|v| time("to", &v)).transpose()?;
        // `from` later than `to` is no mistake: both are overlap tests, so together they
        // ask for the chunks spanning the whole gap.
        let compressed = match text("compressed").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => return Err(format!("compressed {other:?}: expected true or false")),
        };
        let sort = match text("sort").as_deref() {
            None | Some("range_start") => ChunkSort::RangeStart,
            Some("-range_start") => ChunkSort::RangeStartDesc,
            Some("total_bytes") => ChunkSort::Bytes,
            Some("-total_bytes") => ChunkSort::BytesDesc,
            Some(other) => {
                return Err(format!(
                "sort {other:?}: expected range_start, -range_start, total_bytes or -total_bytes"
            ))
            }
        };
        let number = |name: &str, default: usize, min: usize, max: usize| match text(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    format!("{name} {v:?}: expected a whole number from {min} to {max}")
                }),
        };
        Ok(ChunkQuery {
            hypertable,
            from,
            to,
            compressed,
            sort,
            limit: number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?,
            offset: number("offset", 0, 0, usize::MAX)?,
        })
    }

    /// The page of `chunks` this query selects.
    pub fn apply(&self, chunks: &[ChunkFacts]) -> ChunkPage {
        let mut matching: Vec<&ChunkFacts> = chunks
            .iter()
            .filter(|c| {
                self.hypertable
                    .as_ref()
                    .is_none_or(|h| c.hypertable() == *h)
                    && self.compressed.is_none_or(|want| c.is_compressed == want)
                    && self
                        .from
                        .is_none_or(|from| c.range_end.is_none_or(|end| end > from))
                    && self
                        .to
                        .is_none_or(|to| c.range_start.is_none_or(|start| start < to))
            })
            .collect();
        match self.sort {
            ChunkSort::RangeStart => {
                matching.sort_by_key(|c| (c.range_start, c.range_start_integer))
            }
            ChunkSort::RangeStartDesc => {
                matching.sort_by_key(|c| std::cmp::Reverse((c.range_start, c.range_start_integer)))
            }
            ChunkSort::Bytes => matching.sort_by_key(|c| c.total_bytes),
            ChunkSort::BytesDesc => matching.sort_by_key(|c| std::cmp::Reverse(c.total_bytes)),
        }
        ChunkPage {
            total: matching.len(),
            offset: self.offset,
            limit: self.limit,
            chunks: matching
                .into_iter()
                .skip(self.offset)
                .take(self.limit)
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn chunk(table: &str, day: u32, bytes: i64, compressed: bool) -> ChunkFacts {
        let start = format!("2026-11-{day:02}T00:00:00Z")
            .parse::<DateTime<Utc>>()
            .unwrap();
        ChunkFacts {
            hypertable_schema: "s".into(),
            hypertable_name: table.into(),
            schema: "_timescaledb_internal".into(),
            name: format!("_hyper_{table}_{day}"),
            range_start: Some(start),
            range_end: Some(start + chrono::Duration::days(1)),
            range_start_integer: None,
            range_end_integer: None,
            total_bytes: bytes,
            is_compressed: compressed,
            before_compression_bytes: None,
            after_compression_bytes: None,
            tablespace: None,
            in_backlog: false,
        }
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<ChunkQuery, String> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        ChunkQuery::parse(|name| map.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn filters_sort_and_pages() {
        let chunks = vec![
            chunk("a", 1, 300, true),
            chunk("a", 2, 100, true),
            chunk("a", 3, 200, false),
            chunk("b", 2, 900, false),
        ];
        let page = parse(&[
            ("hypertable", "s.a"),
            ("sort", "-total_bytes"),
            ("limit", "2"),
        ])
        .unwrap()
        .apply(&chunks);
        assert_eq!(page.total, 3);
        let bytes: Vec<i64> = page.chunks.iter().map(|c| c.total_bytes).collect();
        assert_eq!(bytes, [300, 200]);
        let page = parse(&[("compressed", "false"), ("from", "2026-11-02T12:00:00Z")])
            .unwrap()
            .apply(&chunks);
        let names: Vec<&str> = page.chunks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["_hyper_b_2", "_hyper_a_3"]);
        let page = parse(&[("offset", "3")]).unwrap().apply(&chunks);
        assert_eq!((page.total, page.chunks.len()), (4, 1));
    }

    #[test]
    fn bad_parameters_are_named() {
        for (pairs, start) in [
            (vec![("limit", "0")], "limit \"0\""),
            (vec![("limit", "5000")], "limit \"5000\""),
            (vec![("sort", "size")], "sort \"size\""),
            (vec![("compressed", "yes")], "compressed \"yes\""),
            (vec![("from", "yesterday")], "from \"yesterday\""),
            (
                vec![("hypertable", "metric_hist")],
                "hypertable \"metric_hist\"",
            ),
        ] {
            let error = parse(&pairs).unwrap_err();
            assert!(error.starts_with(start), "{error}");
        }
    }
}
