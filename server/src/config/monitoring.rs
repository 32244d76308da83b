//! How often the catalog is read, and who may scrape the metrics.

use super::setting::{parse_count, Setting};
use tsdb::policy::parse_bool;

/// Monitoring settings.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "MS5_MONITOR_INTERVAL_SECONDS",
        section: "monitoring",
        key: "interval_seconds",
        default: Some("30"),
        description: "seconds between catalog passes",
        apply: |d, raw| {
            d.settings.monitor_interval_seconds = parse_count(raw, 5, 3600)?;
            Ok(())
        },
        show: |s| s.monitor_interval_seconds.to_string(),
    },
    Setting {
        env: "MS5_CATALOG_READS",
        section: "monitoring",
        key: "catalog_reads",
        default: Some("auto"),
        description: "auto (TimescaleDB's internal catalog where the catalog contract holds) or public (its public views only)",
        apply: |d, raw| {
            d.settings.catalog_reads = tsdb::contract::CatalogReads::parse(raw)?;
            Ok(())
        },
        show: |s| s.catalog_reads.as_str().to_string(),
    },
    Setting {
        env: "MS5_METRICS_TOKEN_REQUIRED",
        section: "monitoring",
        key: "metrics_token_required",
        default: Some("true"),
        description: "whether /metrics needs an API token",
        apply: |d, raw| {
            d.settings.metrics_token_required = parse_bool(raw)?;
            Ok(())
        },
        show: |s| s.metrics_token_required.to_string(),
    },
];
