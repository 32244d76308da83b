//! Reads what the advisor judges: the columns with their distinct counts in a recent chunk
//! (`pg_stats` where the chunk was analyzed, else counted under a time-out), the indexes,
//! TimescaleDB's own defaults where the functions exist, and the current settings' batch
//! sizes.

use super::{suggest, Advice, ColumnFacts, Current, EngineDefault, IndexFacts, MIN_SEGMENT_ROWS};
use crate::capabilities::Capabilities;
use crate::facts::{ChunkFacts, HypertableFacts};
use crate::ident::quote_ident;
use crate::Result;
use chrono::Utc;
use sqlx::{Acquire, PgConnection};

/// How long counting distinct values in the sample chunk may take.
const COUNT_TIMEOUT: &str = "15s";

/// The chunk the advisor reads: the newest whose range has ended (a full one), else the
/// newest; none for an empty table.
pub fn sample_chunk<'a>(
    chunks: &'a [ChunkFacts],
    table: &HypertableFacts,
) -> Option<&'a ChunkFacts> {
    let now = Utc::now();
    let mine: Vec<&ChunkFacts> = chunks
        .iter()
        .filter(|c| c.hypertable_schema == table.schema && c.hypertable_name == table.name)
        .collect();
    mine.iter()
        .filter(|c| c.range_end.is_some_and(|end| end <= now))
        .max_by_key(|c| c.range_start)
        .or_else(|| {
            mine.iter()
                .max_by_key(|c| (c.range_start, c.range_start_integer))
        })
        .copied()
}

/// `schema.name`, each part quoted.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

#[derive(sqlx::FromRow)]
struct ColumnRow {
    name: String,
    type_name: String,
    category: String,
    type_oid: i64,
    n_distinct: Option<f64>,
    correlation: Option<f64>,
}

/// Integer types segment well; floating point and numeric values rarely repeat.
const INTEGER_TYPES: [i64; 3] = [21, 23, 20];

/// Everything the advisor says about `table`.
pub async fn advise(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    table: &HypertableFacts,
    chunks: &[ChunkFacts],
) -> Result<Advice> {
    let relation = qualified(&table.schema, &table.name);
    let time = table.dimensions.first().map(|d| d.column.clone());
    let sample = sample_chunk(chunks, table);
    let rows: Vec<ColumnRow> = sqlx::query_as(
        "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type_name,
                t.typcategory::text AS category, t.oid::bigint AS type_oid,
                s.n_distinct::float8 AS n_distinct, s.correlation::float8 AS correlation
           FROM pg_attribute a
           JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_stats s ON s.schemaname = $2 AND s.tablename = $3
                               AND s.attname = a.attname AND NOT s.inherited
          WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum",
    )
    .bind(&relation)
    .bind(sample.map(|c| c.schema.as_str()).unwrap_or(""))
    .bind(sample.map(|c| c.name.as_str()).unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?;
    let sample_name = sample.map(|c| qualified(&c.schema, &c.name));
    let sample_rows: i64 = match &sample_name {
        Some(name) => {
            let reltuples: f64 = sqlx::query_scalar(
                "SELECT reltuples::float8 FROM pg_class WHERE oid = $1::regclass",
            )
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
            if reltuples >= 0.0 {
                reltuples as i64
            } else {
                sqlx::query_scalar(&format!("SELECT count(*) FROM {name}"))
                    .fetch_one(&mut *conn)
                    .await?
            }
        }
        None => 0,
    };
    let mut columns: Vec<ColumnFacts> = rows
        .into_iter()
        .map(|r| {
            let segmentable = matches!(r.category.as_str(), "S" | "B" | "E" | "U")
                || INTEGER_TYPES.contains(&r.type_oid);
            ColumnFacts {
                is_time: time.as_deref() == Some(r.name.as_str()),
                distinct: r
                    .n_distinct
                    .map(|n| if n < 0.0 { -n * sample_rows as f64 } else { n }),
                counted: false,
                correlation: r.correlation,
                segmentable,
                name: r.name,
                type_name: r.type_name,
            }
        })
        .collect();
    if let Some(name) = &sample_name {
        count_distinct(conn, name, &mut columns).await?;
    }
    let indexes = indexes(conn, &relation).await?;
    let (segment_by, order_by) = suggest(&columns, &indexes, sample_rows);
    let (engine_segment_by, engine_order_by) =
        engine_defaults(conn, &relation, &segment_by.items).await?;
    let measured =
        crate::diagnostics::probe::batches(conn, capabilities, Some((&table.schema, &table.name)))
            .await?;
    let batches = measured
        .as_ref()
        .and_then(|m| m.first())
        .and_then(|b| b.rows_per_batch());
    let verdict = match (table.compression_enabled, batches) {
        (false, _) => "Compression is off for this table.".to_string(),
        (true, None) if measured.is_none() => "Rows per batch come from TimescaleDB's internal catalog, which the console does not read on this server (see the status page), so the settings' effect is not measured.".to_string(),
        (true, None) => "Nothing is compressed yet, so the settings' effect is not measured.".to_string(),
        (true, Some(rows)) if rows < MIN_SEGMENT_ROWS => format!(
            "The latest compressed chunks average {rows:.0} rows per batch: the segment-by is too fine (fewer than {MIN_SEGMENT_ROWS:.0})."
        ),
        (true, Some(rows)) => format!(
            "The latest compressed chunks average {rows:.0} rows per batch{}.",
            table
                .compression_ratio
                .map(|r| format!(" and compress {r:.1}×"))
                .unwrap_or_default()
        ),
    };
    Ok(Advice {
        relation: table.qualified(),
        sample_chunk: sample.map(|c| crate::ident::display_name(&c.schema, &c.name)),
        sample_rows,
        columns,
        indexes,
        segment_by,
        order_by,
        engine_segment_by,
        engine_order_by,
        current: Current {
            enabled: table.compression_enabled,
            segment_by: table.segment_by.clone(),
            order_by: table.order_by.clone(),
            rows_per_batch: batches,
            ratio: table.compression_ratio,
            verdict,
        },
    })
}

/// Counts distinct values of the segmentable columns `pg_stats` has no figure for, in one
/// read of the chunk under a time-out; a chunk too big to count in time keeps its gaps.
async fn count_distinct(
    conn: &mut PgConnection,
    chunk: &str,
    columns: &mut [ColumnFacts],
) -> Result<()> {
    let wanted: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.segmentable && !c.is_time && c.distinct.is_none())
        .map(|(i, _)| i)
        .take(12)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = wanted
        .iter()
        .map(|i| format!("count(DISTINCT {})::float8", quote_ident(&columns[*i].name)))
        .collect();
    let sql = format!("SELECT ARRAY[{}] FROM {chunk}", list.join(", "));
    let mut tx = conn.begin().await?;
    sqlx::query(&format!("SET LOCAL statement_timeout = '{COUNT_TIMEOUT}'"))
        .execute(&mut *tx)
        .await?;
    match sqlx::query_scalar::<_, Vec<f64>>(&sql)
        .fetch_one(&mut *tx)
        .await
    {
        Ok(counts) => {
            for (i, count) in wanted.iter().zip(counts) {
                columns[*i].distinct = Some(count);
                columns[*i].counted = true;
            }
        }
        Err(error) if crate::error::is_statement_timeout(&error) => {
            tracing::warn!(
                chunk,
                "counting distinct values timed out; suggestions use statistics only"
            );
        }
        Err(error) => return Err(error.into()),
    }
    tx.rollback().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct IndexRow {
    name: String,
    columns: Vec<String>,
}

async fn indexes(conn: &mut PgConnection, relation: &str) -> Result<Vec<IndexFacts>> {
    let rows: Vec<IndexRow> = sqlx::query_as(
        "SELECT ic.relname::text AS name,
                array(SELECT a.attname::text
                        FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                       ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = $1::regclass
          ORDER BY 1",
    )
    .bind(relation)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| IndexFacts {
            name: r.name,
            columns: r.columns,
        })
        .collect())
}

/// TimescaleDB's `get_segmentby_defaults` / `get_orderby_defaults`, where the database has
/// them (looked up in the catalog, not tried).
async fn engine_defaults(
    conn: &mut PgConnection,
    relation: &str,
    segment_by: &[String],
) -> Result<(Option<EngineDefault>, Option<EngineDefault>)> {
    let offered: bool = sqlx::query_scalar(
        "SELECT to_regprocedure('_timescaledb_functions.get_segmentby_defaults(regclass)') IS NOT NULL
            AND to_regprocedure('_timescaledb_functions.get_orderby_defaults(regclass, text[])') IS NOT NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !offered {
        return Ok((None, None));
    }
    let segment: serde_json::Value =
        sqlx::query_scalar("SELECT _timescaledb_functions.get_segmentby_defaults($1::regclass)")
            .bind(relation)
            .fetch_one(&mut *conn)
            .await?;
    let order: serde_json::Value = sqlx::query_scalar(
        "SELECT _timescaledb_functions.get_orderby_defaults($1::regclass, $2::text[])",
    )
    .bind(relation)
    .bind(segment_by)
    .fetch_one(&mut *conn)
    .await?;
    Ok((
        engine_default(&segment, "columns"),
        engine_default(&order, "clauses"),
    ))
}

fn engine_default(value: &serde_json::Value, key: &str) -> Option<EngineDefault> {
    let items = value
        .get(key)?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    Some(EngineDefault {
        items,
        confidence: value.get("confidence").and_then(serde_json::Value::as_i64),
        message: value
            .get("message")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
    })
}
