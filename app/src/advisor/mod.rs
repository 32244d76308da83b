//! Server functions of the compression advisor page: the advice for one hypertable
//! (viewers) and a trial compression of a recent chunk's copy (operators: it takes a
//! connection and CPU for up to minutes). Each authorizes and calls [`service`], which REST
//! shares.

#[cfg(feature = "ssr")]
pub mod service;

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::advisor::{Advice, Trial};

/// Suggested segment-by and order-by with reasons, TimescaleDB's defaults and the current
/// settings' measured effect.
#[server(prefix = "/api/fn", endpoint = "advice")]
pub async fn get_advice(schema: String, name: String) -> Result<Advice, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    service::advice(&crate::state::app_state()?, &schema, &name).await
}

/// Compresses a copy of a recent chunk with the current and the suggested settings and
/// reports the real ratios; nothing is left behind.
#[server(prefix = "/api/fn", endpoint = "compression-trial")]
pub async fn run_compression_trial(schema: String, name: String) -> Result<Trial, AppError> {
    crate::auth::require(tsdb::types::Role::Operator).await?;
    service::trial(&crate::state::app_state()?, &schema, &name).await
}
