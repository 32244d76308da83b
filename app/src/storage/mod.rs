//! Server functions of the storage page: the trends of the storage history (range, split,
//! drill-down) and the outlook (forecast, budget, priced policy changes). Each authorizes,
//! validates, and calls [`service`], which REST shares.

pub mod config;
#[cfg(feature = "ssr")]
pub mod service;

pub use config::StorageConfig;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tsdb::storage::outlook::Outlook;
use tsdb::storage::trends::{Range, Trends, View};

/// The trends page's question, validated: each field names itself in its error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendsQuery {
    /// How far back.
    pub range: Range,
    /// The split.
    pub view: View,
    /// The relation drilled into (`schema.name`), if any.
    pub relation: Option<String>,
}

impl TrendsQuery {
    /// Reads the query-string values; empty ones take their defaults.
    pub fn parse(range: &str, view: &str, table: &str) -> Result<Self, AppError> {
        let or_default = |raw: &str, default: &'static str| {
            if raw.trim().is_empty() {
                default.to_string()
            } else {
                raw.to_string()
            }
        };
        let range = Range::parse(&or_default(range, Range::default().as_str()))
            .map_err(AppError::Invalid)?;
        let view =
            View::parse(&or_default(view, View::default().as_str())).map_err(AppError::Invalid)?;
        let table = table.trim();
        if table.chars().count() > 200 || table.contains('\0') {
            return Err(AppError::Invalid(
                "table: a schema-qualified name (schema.name) of at most 200 characters".into(),
            ));
        }
        // Relations are kept in the one written form (`"s"."a"` is `s.a`); anything else
        // (the database's own row) is looked up as given.
        let relation = (!table.is_empty()).then(|| {
            tsdb::ident::normalize_display_name(table).unwrap_or_else(|_| table.to_string())
        });
        Ok(Self {
            range,
            view,
            relation,
        })
    }
}

/// The trends with what the page needs around them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendsView {
    /// The trends.
    pub trends: Trends,
    /// Seconds between samples.
    pub sample_seconds: u32,
}

/// Bytes over time for a range, split by table or by compression, maybe for one table.
#[server(prefix = "/api/fn", endpoint = "storage-trends")]
pub async fn get_storage_trends(
    range: String,
    view: String,
    table: String,
) -> Result<TrendsView, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let query = TrendsQuery::parse(&range, &view, &table)?;
    let state = crate::state::app_state()?;
    Ok(TrendsView {
        trends: service::trends(&state, &query).await?,
        sample_seconds: state.storage_config.sample_seconds,
    })
}

/// The forecast per table and for the database, the budget day and what policy changes
/// would buy.
#[server(prefix = "/api/fn", endpoint = "storage-outlook")]
pub async fn get_storage_outlook() -> Result<Outlook, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    service::outlook(&crate::state::app_state()?).await
}
