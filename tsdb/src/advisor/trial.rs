//! A trial compression: one recent chunk copied into a scratch schema, compressed with
//! each setting to compare, measured with TimescaleDB's own statistics, and everything
//! rolled back. It runs in one transaction, so nothing is left behind even when the
//! console dies half-way (the database rolls back the transaction of a lost connection).

use super::inspect::{qualified, sample_chunk};
use super::{Trial, TrialResult};
use crate::capabilities::Capabilities;
use crate::facts::{ChunkFacts, HypertableFacts};
use crate::ident::{quote_ident, quote_literal};
use crate::{Error, Result};
use sqlx::{Acquire, PgConnection};
use std::time::Instant;

/// One setting to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// `current` or `suggested`.
    pub label: String,
    /// Segment-by columns.
    pub segment_by: Vec<String>,
    /// Order-by items (`column [ASC|DESC] [NULLS FIRST|LAST]`).
    pub order_by: Vec<String>,
}

/// The longest a trial may take.
const TIMEOUT: &str = "300s";

/// An order-by item rebuilt from a known column and fixed words, or why it is refused.
fn order_item(item: &str, columns: &[String]) -> Result<String> {
    let refuse = || {
        Error::Invalid(format!(
            "order_by: expected a column of the table with ASC or DESC and NULLS FIRST or LAST, got {item:?}"
        ))
    };
    let item = item.trim();
    // A quoted name ends at a quote that is not doubled; a bare one at white space.
    let (column, rest) = match item.strip_prefix('"') {
        Some(quoted) => {
            let mut name = String::new();
            let mut end = None;
            let mut chars = quoted.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c != '"' {
                    name.push(c);
                } else if chars.peek().is_some_and(|(_, next)| *next == '"') {
                    name.push('"');
                    chars.next();
                } else {
                    end = Some(i + 1);
                    break;
                }
            }
            (name, &quoted[end.ok_or_else(refuse)?..])
        }
        None => {
            let split = item.find(char::is_whitespace).unwrap_or(item.len());
            (item[..split].to_string(), &item[split..])
        }
    };
    if !columns.contains(&column) {
        return Err(refuse());
    }
    let rest: Vec<String> = rest
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    let allowed = [
        vec![],
        vec!["ASC"],
        vec!["DESC"],
        vec!["ASC", "NULLS", "FIRST"],
        vec!["ASC", "NULLS", "LAST"],
        vec!["DESC", "NULLS", "FIRST"],
        vec!["DESC", "NULLS", "LAST"],
        vec!["NULLS", "FIRST"],
        vec!["NULLS", "LAST"],
    ];
    if !allowed.iter().any(|a| *a == rest) {
        return Err(refuse());
    }
    let mut out = quote_ident(&column);
    for word in rest {
        out.push(' ');
        out.push_str(&word);
    }
    Ok(out)
}

/// A chunk interval wide enough for any one chunk of a time column of this type (a
/// constant: integer time columns need an integer, the others an interval).
fn whole_range(column_type: &str) -> &'static str {
    match column_type {
        "smallint" => "32767::smallint",
        "integer" => "2147483647::integer",
        "bigint" => "9223372036854775807::bigint",
        _ => "interval '100 years'",
    }
}

/// Compresses a copy of `table`'s recent chunk with each setting; `columns` are the
/// table's columns (every name in a setting must be one of them).
pub async fn run(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    table: &HypertableFacts,
    chunks: &[ChunkFacts],
    columns: &[String],
    settings: &[Setting],
) -> Result<Trial> {
    let started = Instant::now();
    let chunk = sample_chunk(chunks, table).ok_or_else(|| {
        Error::Invalid(format!(
            "{}: no chunk to try compression on",
            table.qualified()
        ))
    })?;
    let (time, whole) = table
        .dimensions
        .first()
        .filter(|d| d.interval.is_some())
        .map(|d| (d.column.clone(), whole_range(&d.column_type)))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{}: a trial needs a time dimension on a timestamp or date column",
                table.qualified()
            ))
        })?;
    let source = qualified(&table.schema, &table.name);
    let chunk_name = qualified(&chunk.schema, &chunk.name);
    let mut tx = conn.begin().await?;
    sqlx::query(&format!("SET LOCAL statement_timeout = '{TIMEOUT}'"))
        .execute(&mut *tx)
        .await?;
    sqlx::query("SET LOCAL lock_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    // Names never repeat, not even on one connection: TimescaleDB's per-connection
    // caches can outlive a rolled-back hypertable of the same name, and a second trial
    // reusing it then finds "columnstore not enabled" (found by schemathesis).
    let (pid, xid): (i32, i64) = sqlx::query_as("SELECT pg_backend_pid(), txid_current()")
        .fetch_one(&mut *tx)
        .await?;
    let scratch = format!("ms5_trial_{pid}_{xid}");
    sqlx::query(&format!("CREATE SCHEMA {}", quote_ident(&scratch)))
        .execute(&mut *tx)
        .await?;
    let mut results = Vec::new();
    let mut rows = 0;
    for (i, setting) in settings.iter().enumerate() {
        let segment: Vec<String> = setting
            .segment_by
            .iter()
            .map(|c| {
                columns
                    .iter()
                    .find(|known| *known == c)
                    .map(|known| quote_ident(known))
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "segment_by: {c:?} is not a column of {}",
                            table.qualified()
                        ))
                    })
            })
            .collect::<Result<_>>()?;
        let order: Vec<String> = setting
            .order_by
            .iter()
            .map(|item| order_item(item, columns))
            .collect::<Result<_>>()?;
        let name = format!("trial_{xid}_{i}");
        let copy = qualified(&scratch, &name);
        sqlx::query(&format!(
            "CREATE TABLE {copy} (LIKE {source} INCLUDING DEFAULTS)"
        ))
        .execute(&mut *tx)
        .await?;
        // One chunk holds the whole copy.
        sqlx::query(&format!(
            "SELECT create_hypertable($1::regclass, $2::name, chunk_time_interval => {whole})"
        ))
        .bind(&copy)
        .bind(&time)
        .execute(&mut *tx)
        .await?;
        rows = sqlx::query(&format!("INSERT INTO {copy} SELECT * FROM {chunk_name}"))
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64;
        // An empty segment-by is said explicitly (2.14+ would otherwise pick one); an
        // empty order-by is left to TimescaleDB's default, which refuses an empty list.
        let order_option = if order.is_empty() {
            String::new()
        } else {
            format!(
                ", timescaledb.compress_orderby = {}",
                quote_literal(&order.join(", "))
            )
        };
        sqlx::query(&format!(
            "ALTER TABLE {copy} SET (timescaledb.compress, timescaledb.compress_segmentby = {}{order_option})",
            quote_literal(&segment.join(", "))
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT compress_chunk(c) FROM show_chunks($1::regclass) c")
            .bind(&copy)
            .execute(&mut *tx)
            .await?;
        let (before, after): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT sum(before_compression_total_bytes)::bigint, sum(after_compression_total_bytes)::bigint
               FROM chunk_compression_stats($1::regclass)",
        )
        .bind(&copy)
        .fetch_one(&mut *tx)
        .await?;
        // Which relation holds the copy's batches is in the internal catalog only; where
        // it is not read, the trial reports sizes without rows per batch.
        let compressed: Option<(String, String)> = match capabilities.catalog_shape() {
            Some(shape) => {
                sqlx::query_as(&format!(
                    "SELECT schema, name FROM ({}) r
                      WHERE (hypertable_schema, hypertable_name) = ($1, $2)
                      ORDER BY chunk_id DESC LIMIT 1",
                    shape.compressed_relations_sql()
                ))
                .bind(&scratch)
                .bind(&name)
                .fetch_optional(&mut *tx)
                .await?
            }
            None => None,
        };
        let rows_per_batch = match compressed {
            Some((schema, table)) => {
                let (batches, rows): (i64, i64) = sqlx::query_as(&format!(
                    "SELECT count(*)::bigint, coalesce(sum(_ts_meta_count), 0)::bigint FROM {}",
                    qualified(&schema, &table)
                ))
                .fetch_one(&mut *tx)
                .await?;
                (batches > 0).then(|| rows as f64 / batches as f64)
            }
            None => None,
        };
        results.push(TrialResult {
            label: setting.label.clone(),
            segment_by: setting.segment_by.clone(),
            order_by: setting.order_by.clone(),
            before_bytes: before.unwrap_or(0),
            after_bytes: after.unwrap_or(0),
            rows_per_batch,
        });
    }
    tx.rollback().await?;
    Ok(Trial {
        chunk: crate::ident::display_name(&chunk.schema, &chunk.name),
        rows,
        results,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::order_item;

    #[test]
    fn order_items_are_rebuilt_from_known_columns_and_fixed_words() {
        let columns = vec!["ts".to_string(), "Metric Name".to_string()];
        assert_eq!(order_item("ts DESC", &columns).unwrap(), "\"ts\" DESC");
        assert_eq!(
            order_item("\"Metric Name\" ASC", &columns).unwrap(),
            "\"Metric Name\" ASC"
        );
        assert_eq!(
            order_item("ts desc nulls last", &columns).unwrap(),
            "\"ts\" DESC NULLS LAST"
        );
        for bad in [
            "nope DESC",
            "ts; DROP TABLE x",
            "ts DESC, other",
            "",
            "\"ts",
            "ts UP",
        ] {
            assert!(order_item(bad, &columns).is_err(), "{bad}");
        }
    }
}
