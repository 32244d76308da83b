//! Storage history and forecast: how often the sampler records, how long samples are
//! kept, how far ahead the forecast looks, and the budget it is held against.

use super::setting::{parse_count, Setting};
use tsdb::policy::{parse_retention, PolicyAge, Retention};

/// Storage settings.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "MS5_STORAGE_SAMPLE_SECONDS",
        section: "storage",
        key: "sample_seconds",
        default: Some("3600"),
        description: "seconds between storage samples (each records every hypertable, continuous aggregate and the database)",
        apply: |d, raw| {
            d.settings.storage.sample_seconds = parse_count(raw, 60, 86_400)?;
            Ok(())
        },
        show: |s| s.storage.sample_seconds.to_string(),
    },
    Setting {
        env: "MS5_STORAGE_HISTORY_RETENTION",
        section: "storage",
        key: "history_retention",
        default: Some("400 days"),
        description: "how long storage samples are kept (the retention policy of console.storage_samples; none keeps them forever)",
        apply: |d, raw| {
            let retention = parse_retention(raw)?;
            if matches!(retention, Some(PolicyAge::Integer(_))) {
                return Err("an interval such as 400 days, or none".into());
            }
            d.settings.storage.history_retention = retention;
            Ok(())
        },
        show: |s| Retention(s.storage.history_retention).to_string(),
    },
    Setting {
        env: "MS5_STORAGE_BUDGET",
        section: "storage",
        key: "budget",
        default: Some("none"),
        description: "the database's storage budget, such as 500 GB or 2 TiB (none: no budget)",
        apply: |d, raw| {
            d.settings.storage.budget_bytes = parse_optional_size(raw)?;
            Ok(())
        },
        show: |s| show_size(s.storage.budget_bytes),
    },
    Setting {
        env: "MS5_STORAGE_VOLUME_FREE",
        section: "storage",
        key: "volume_free",
        default: Some("none"),
        description: "free space left on the database's volume, such as 800 GB (none: unknown); the forecast's limit is the tighter of this and the budget",
        apply: |d, raw| {
            d.settings.storage.volume_free_bytes = parse_optional_size(raw)?;
            Ok(())
        },
        show: |s| show_size(s.storage.volume_free_bytes),
    },
    Setting {
        env: "MS5_FORECAST_HORIZON_DAYS",
        section: "storage",
        key: "forecast_horizon_days",
        default: Some("90"),
        description: "days the storage forecast looks ahead",
        apply: |d, raw| {
            d.settings.storage.horizon_days = parse_count(raw, 7, 1_095)?;
            Ok(())
        },
        show: |s| s.storage.horizon_days.to_string(),
    },
];

/// Storage settings, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// `MS5_STORAGE_SAMPLE_SECONDS`.
    pub sample_seconds: u32,
    /// `MS5_STORAGE_HISTORY_RETENTION`; none keeps samples forever.
    pub history_retention: Option<PolicyAge>,
    /// `MS5_STORAGE_BUDGET` in bytes.
    pub budget_bytes: Option<u64>,
    /// `MS5_STORAGE_VOLUME_FREE` in bytes.
    pub volume_free_bytes: Option<u64>,
    /// `MS5_FORECAST_HORIZON_DAYS`.
    pub horizon_days: u32,
}

impl StorageSettings {
    /// The budget the forecast is held against.
    pub fn budget(&self) -> tsdb::storage::outlook::Budget {
        tsdb::storage::outlook::Budget {
            bytes: self.budget_bytes,
            volume_free_bytes: self.volume_free_bytes,
        }
    }
}

/// A size, or `none`.
fn parse_optional_size(raw: &str) -> Result<Option<u64>, String> {
    if raw.trim().eq_ignore_ascii_case("none") || raw.trim().is_empty() {
        return Ok(None);
    }
    tsdb::storage::parse_size(raw)
        .map(Some)
        .map_err(|_| "a size such as 500 GB, 1.5 TiB or a number of bytes, or none".to_string())
}

/// A size as configured, in bytes and in words.
fn show_size(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "none".to_string(),
        |b| {
            format!(
                "{b} bytes ({})",
                tsdb::types::format_bytes(i64::try_from(b).unwrap_or(i64::MAX))
            )
        },
    )
}
