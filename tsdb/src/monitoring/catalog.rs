//! Catalog reads without sizes: hypertables, dimensions, compression settings and
//! continuous aggregates (chunks are in `chunks`). Internal compressed hypertables are left out; materialization
//! hypertables are kept (flagged) because continuous aggregates are sized through them.

use super::chunks::Activity;
use super::jobs::JobRow;
use crate::capabilities::{Capabilities, TimescaleVersion};
use crate::facts::{CaggFacts, DimensionFacts};
use crate::pg_time::PgTimestamp;
use crate::Result;
use chrono::Utc;
use sqlx::PgPool;
use std::collections::HashMap;

/// A hypertable as the catalog describes it.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The parent relation.
    pub oid: i64,
    /// PostgreSQL's counters for the parent relation (rows written to it directly).
    pub activity: Activity,
    /// Compression is enabled.
    pub compression_enabled: bool,
    /// It materializes a continuous aggregate.
    pub is_materialization: bool,
    /// Dimensions, in catalog order (the open time dimension first).
    pub dimensions: Vec<DimensionFacts>,
    /// Segment-by columns.
    pub segment_by: Vec<String>,
    /// Order-by items.
    pub order_by: Vec<String>,
}

pub(super) fn split_list(text: Option<String>) -> Vec<String> {
    text.map(|t| {
        t.split(',')
            .map(|part| part.trim().to_string())
            .filter(|part| !part.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// Which view holds compression settings on this version: rows of (relation oid,
/// segment-by text, order-by text).
pub(crate) fn settings_query(capabilities: &Capabilities) -> &'static str {
    const V2_14_1: TimescaleVersion = TimescaleVersion {
        major: 2,
        minor: 14,
        patch: 1,
    };
    if capabilities.uses_columnstore_names() {
        "SELECT hypertable::oid::bigint, segmentby, orderby
           FROM timescaledb_information.hypertable_columnstore_settings"
    } else if capabilities.timescaledb.is_some_and(|v| v >= V2_14_1) {
        "SELECT hypertable::oid::bigint, segmentby, orderby
           FROM timescaledb_information.hypertable_compression_settings"
    } else {
        "SELECT format('%I.%I', hypertable_schema, hypertable_name)::regclass::oid::bigint,
                string_agg(quote_ident(attname::text), ', ' ORDER BY segmentby_column_index)
                    FILTER (WHERE segmentby_column_index IS NOT NULL),
                string_agg(quote_ident(attname::text)
                           || CASE WHEN orderby_asc THEN '' ELSE ' DESC' END
                           || CASE WHEN orderby_nullsfirst <> NOT orderby_asc
                                   THEN CASE WHEN orderby_nullsfirst THEN ' NULLS FIRST'
                                             ELSE ' NULLS LAST' END
                                   ELSE '' END,
                           ', ' ORDER BY orderby_column_index)
                    FILTER (WHERE orderby_column_index IS NOT NULL)
           FROM timescaledb_information.compression_settings
          GROUP BY 1"
    }
}

/// One row of the hypertables query.
#[derive(sqlx::FromRow)]
struct HypertableQueryRow {
    id: i32,
    schema: String,
    name: String,
    oid: i64,
    compression_enabled: bool,
    is_materialization: bool,
    writes: i64,
    vacuums: i64,
    file: i64,
}

/// One row of the dimensions query.
#[derive(sqlx::FromRow)]
struct DimensionQueryRow {
    hypertable_id: i32,
    column_name: String,
    column_type: String,
    open: bool,
    interval: Option<String>,
    partitions: Option<i16>,
}

/// Every hypertable by catalog id, but internal compressed ones and those of a bench
/// run's scratch schema (there for a minute, never the user's).
pub async fn hypertables(
    pool: &PgPool,
    capabilities: &Capabilities,
) -> Result<HashMap<i32, TableRow>> {
    // Compression: `compression_state = 1` until 2.28 (2 marked the internal compressed
    // hypertables, left out); 2.29 keeps it in the status bits and has no internal ones.
    let shape = capabilities
        .catalog_shape()
        .ok_or_else(|| crate::Error::Unexpected("the internal catalog is not read here".into()))?;
    let (enabled, internal) = if shape.compression_in_status {
        ("h.status & 4 <> 0", "true")
    } else {
        ("h.compression_state = 1", "h.compression_state <> 2")
    };
    let sql = format!(
        "SELECT h.id, h.schema_name::text AS schema, h.table_name::text AS name,
                c.oid::bigint AS oid,
                {enabled} AS compression_enabled,
                EXISTS (SELECT 1 FROM _timescaledb_catalog.continuous_agg ca
                         WHERE ca.mat_hypertable_id = h.id) AS is_materialization,
                pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid)
                    + pg_stat_get_tuples_deleted(c.oid) AS writes,
                pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid) AS vacuums,
                c.relfilenode::bigint AS file
           FROM _timescaledb_catalog.hypertable h
           JOIN pg_namespace n ON n.nspname = h.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = h.table_name
          WHERE {internal} AND NOT starts_with(h.schema_name::text, $1)"
    );
    let rows: Vec<HypertableQueryRow> = sqlx::query_as(&sql)
        .bind(crate::bench::scratch::PREFIX)
        .fetch_all(pool)
        .await?;
    let dimensions: Vec<DimensionQueryRow> = sqlx::query_as(
        "SELECT d.hypertable_id, d.column_name::text AS column_name,
                d.column_type::regtype::text AS column_type,
                d.num_slices IS NULL AS open,
                CASE WHEN d.num_slices IS NOT NULL THEN NULL
                     WHEN d.column_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                     THEN justify_interval(d.interval_length * interval '1 microsecond')::text
                     ELSE d.interval_length::text END AS interval,
                d.num_slices AS partitions
           FROM _timescaledb_catalog.dimension d
          ORDER BY d.hypertable_id, d.id",
    )
    .fetch_all(pool)
    .await?;
    let settings: Vec<(i64, Option<String>, Option<String>)> =
        sqlx::query_as(settings_query(capabilities))
            .fetch_all(pool)
            .await?;
    let settings: HashMap<i64, (Option<String>, Option<String>)> = settings
        .into_iter()
        .map(|(oid, seg, ord)| (oid, (seg, ord)))
        .collect();
    let mut tables: HashMap<i32, TableRow> = rows
        .into_iter()
        .map(|row| {
            let (segment_by, order_by) = settings.get(&row.oid).cloned().unwrap_or_default();
            (
                row.id,
                TableRow {
                    schema: row.schema,
                    name: row.name,
                    oid: row.oid,
                    activity: Activity {
                        writes: row.writes,
                        vacuums: row.vacuums,
                        file: row.file,
                        compressed_file: None,
                    },
                    compression_enabled: row.compression_enabled,
                    is_materialization: row.is_materialization,
                    dimensions: Vec::new(),
                    segment_by: split_list(segment_by),
                    order_by: split_list(order_by),
                },
            )
        })
        .collect();
    for dimension in dimensions {
        if let Some(table) = tables.get_mut(&dimension.hypertable_id) {
            table.dimensions.push(DimensionFacts {
                column: dimension.column_name,
                column_type: dimension.column_type,
                kind: if dimension.open { "time" } else { "space" }.into(),
                interval: dimension.interval,
                partitions: dimension.partitions.map(i64::from),
            });
        }
    }
    Ok(tables)
}

/// One row of the continuous aggregates query.
#[derive(sqlx::FromRow)]
struct CaggQueryRow {
    schema: String,
    name: String,
    source_schema: String,
    source_name: String,
    mat_hypertable_id: i32,
    watermark: Option<PgTimestamp>,
}

/// Continuous aggregates with their source, materialized bytes and watermark.
pub async fn continuous_aggregates(
    pool: &PgPool,
    totals: &HashMap<i32, i64>,
    jobs: &[JobRow],
) -> Result<Vec<CaggFacts>> {
    // A watermark at or before 4714 BC means "never refreshed". An aggregate on an
    // aggregate reads the lower one's materialized hypertable: named by its view.
    let rows: Vec<CaggQueryRow> = sqlx::query_as(
        "SELECT ca.user_view_schema::text AS schema, ca.user_view_name::text AS name,
                COALESCE(parent.user_view_schema, raw.schema_name)::text AS source_schema,
                COALESCE(parent.user_view_name, raw.table_name)::text AS source_name,
                ca.mat_hypertable_id,
                CASE WHEN d.column_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                      AND _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) > -210866803200000000
                     THEN _timescaledb_functions.to_timestamp(
                              _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id)) END AS watermark
           FROM _timescaledb_catalog.continuous_agg ca
           JOIN _timescaledb_catalog.hypertable raw ON raw.id = ca.raw_hypertable_id
           LEFT JOIN _timescaledb_catalog.continuous_agg parent
                  ON parent.mat_hypertable_id = ca.raw_hypertable_id
           LEFT JOIN LATERAL (
                SELECT column_type FROM _timescaledb_catalog.dimension
                 WHERE hypertable_id = ca.mat_hypertable_id ORDER BY id LIMIT 1) d ON true
          ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let watermark = PgTimestamp::finite_or_none(row.watermark);
            let mat_id = row.mat_hypertable_id;
            CaggFacts {
                schema: row.schema,
                name: row.name,
                source: crate::ident::display_name(&row.source_schema, &row.source_name),
                materialized_bytes: totals.get(&mat_id).copied().unwrap_or(0),
                refresh_lag_seconds: watermark
                    .map(|w| ((now - w).num_milliseconds() as f64 / 1000.0).max(0.0)),
                watermark,
                refresh_schedule: jobs
                    .iter()
                    .find(|j| {
                        j.hypertable_id == Some(mat_id)
                            && j.facts.kind == "policy_refresh_continuous_aggregate"
                    })
                    .map(|j| j.facts.schedule_interval.clone()),
            }
        })
        .collect())
}
