//! Actions on one chunk (operators): compress it now or decompress it, audited in the same
//! transaction.

use crate::audit::{self, Actor, Entry, Outcome};
use crate::capabilities::Capabilities;
use crate::{Error, Result};
use serde_json::json;
use sqlx::PgPool;

/// Which way a chunk is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Row store → columnstore (compress).
    Compress,
    /// Columnstore → row store (decompress), for example before a backfill.
    Decompress,
}

impl Conversion {
    /// The statement on this version; the chunk's identifier reaches SQL only through
    /// `format('%I.%I')` and `regclass`.
    fn statement(self, capabilities: &Capabilities) -> &'static str {
        match (self, capabilities.uses_columnstore_names()) {
            (Conversion::Compress, true) => {
                "CALL convert_to_columnstore(format('%I.%I', $1::text, $2::text)::regclass)"
            }
            (Conversion::Compress, false) => {
                "SELECT compress_chunk(format('%I.%I', $1::text, $2::text)::regclass)::text"
            }
            (Conversion::Decompress, true) => {
                "CALL convert_to_rowstore(format('%I.%I', $1::text, $2::text)::regclass)"
            }
            (Conversion::Decompress, false) => {
                "SELECT decompress_chunk(format('%I.%I', $1::text, $2::text)::regclass)::text"
            }
        }
    }

    fn action(self) -> &'static str {
        match self {
            Conversion::Compress => "chunk.compress",
            Conversion::Decompress => "chunk.decompress",
        }
    }
}

/// Converts one chunk, named by schema and table, into or out of the columnstore.
pub async fn convert(
    pool: &PgPool,
    capabilities: &Capabilities,
    actor: &Actor,
    client_addr: Option<&str>,
    schema: &str,
    name: &str,
    conversion: Conversion,
) -> Result<()> {
    capabilities.require_timescaledb()?;
    for (field, part) in [("chunk schema", schema), ("chunk name", name)] {
        crate::ident::check_part(field, part).map_err(Error::Invalid)?;
    }
    let mut tx = pool.begin().await?;
    // The catalog row is locked, so that two conversions of one chunk queue. Rows of
    // dropped chunks (kept before 2.26) have no relation: regclass finds none. 2.29 names
    // a chunk's relation by `relid` only. Without the internal catalog, the public view
    // says whether it is compressed (TimescaleDB refuses a conversion that raced).
    let sql = match capabilities.catalog_shape() {
        Some(shape) if shape.chunk_relid => {
            "SELECT status FROM _timescaledb_catalog.chunk
              WHERE relid = to_regclass(format('%I.%I', $1::text, $2::text))
              FOR UPDATE"
        }
        Some(_) => {
            "SELECT status FROM _timescaledb_catalog.chunk
              WHERE schema_name = $1 AND table_name = $2
                AND to_regclass(format('%I.%I', schema_name, table_name)) IS NOT NULL
              FOR UPDATE"
        }
        None => {
            "SELECT CASE WHEN is_compressed THEN 1 ELSE 0 END
               FROM timescaledb_information.chunks
              WHERE chunk_schema = $1 AND chunk_name = $2"
        }
    };
    let status: Option<i32> = sqlx::query_scalar(sql)
        .bind(schema)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(status) = status else {
        return Err(Error::NotFound(format!(
            "no chunk named {}",
            crate::ident::display_name(schema, name)
        )));
    };
    let compressed = status & 1 != 0;
    match (conversion, compressed) {
        (Conversion::Compress, true) => {
            return Err(Error::Conflict(format!(
                "{} is already compressed",
                crate::ident::display_name(schema, name)
            )))
        }
        (Conversion::Decompress, false) => {
            return Err(Error::Conflict(format!(
                "{} is not compressed",
                crate::ident::display_name(schema, name)
            )))
        }
        _ => {}
    }
    sqlx::query(conversion.statement(capabilities))
        .bind(schema)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: conversion.action(),
            object_type: Some("chunk"),
            object_id: Some(&format!("{schema}.{name}")),
            before: Some(json!({"compressed": compressed})),
            after: Some(json!({"compressed": !compressed})),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
