//! Actions on one chunk (operators): compress it now, audited in the same transaction.

use crate::audit::{self, Actor, Entry, Outcome};
use crate::capabilities::Capabilities;
use crate::{Error, Result};
use serde_json::json;
use sqlx::PgPool;

/// Compresses (converts to the columnstore) one chunk, named by schema and table.
pub async fn compress(
    pool: &PgPool,
    capabilities: &Capabilities,
    actor: &Actor,
    client_addr: Option<&str>,
    schema: &str,
    name: &str,
) -> Result<()> {
    capabilities.require_timescaledb()?;
    let mut tx = pool.begin().await?;
    // Rows of dropped chunks (kept before 2.26) have no relation: regclass finds none.
    let status: Option<i32> = sqlx::query_scalar(
        "SELECT status FROM _timescaledb_catalog.chunk
          WHERE schema_name = $1 AND table_name = $2
            AND to_regclass(format('%I.%I', schema_name, table_name)) IS NOT NULL
          FOR UPDATE",
    )
    .bind(schema)
    .bind(name)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(status) = status else {
        return Err(Error::NotFound(format!("no chunk named {schema}.{name}")));
    };
    if status & 1 != 0 {
        return Err(Error::Conflict(format!(
            "{schema}.{name} is already compressed"
        )));
    }
    // The identifier reaches SQL only through format('%I.%I') and regclass.
    let statement = if capabilities.uses_columnstore_names() {
        "CALL convert_to_columnstore(format('%I.%I', $1::text, $2::text)::regclass)"
    } else {
        "SELECT compress_chunk(format('%I.%I', $1::text, $2::text)::regclass)::text"
    };
    sqlx::query(statement)
        .bind(schema)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: "chunk.compress",
            object_type: Some("chunk"),
            object_id: Some(&format!("{schema}.{name}")),
            before: Some(json!({"compressed": false})),
            after: Some(json!({"compressed": true})),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
