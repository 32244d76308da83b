//! The default data-lifecycle policy (the seed's TimescaleDB settings, under their
//! MS5.0 variable names so its env files work) and whether it is applied at start-up.
//! Per-hypertable overrides come from the file's `[timescaledb.tables."schema.table"]`.

use super::setting::Setting;
use tsdb::policy::desired::parse_patterns;
use tsdb::policy::{
    parse_bool, parse_columns, parse_compress_after, parse_interval, parse_order_by,
    parse_retention, Columns, CompressAfter, Retention,
};

/// Policy settings.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "TIMESCALEDB_COMPRESSION_ENABLED",
        section: "timescaledb",
        key: "compression_enabled",
        default: Some("true"),
        description: "compress chunks",
        apply: |d, raw| {
            d.settings.timescaledb.compression_enabled = parse_bool(raw)?;
            Ok(())
        },
        show: |s| s.timescaledb.compression_enabled.to_string(),
    },
    Setting {
        env: "TIMESCALEDB_COMPRESSION_AFTER",
        section: "timescaledb",
        key: "compression_after",
        default: Some("7 days"),
        description: "compress chunks older than this (none: no compression policy)",
        apply: |d, raw| {
            d.settings.timescaledb.compression_after = parse_compress_after(raw)?;
            Ok(())
        },
        show: |s| CompressAfter(s.timescaledb.compression_after).to_string(),
    },
    Setting {
        env: "TIMESCALEDB_RETENTION_POLICY",
        section: "timescaledb",
        key: "retention_policy",
        default: Some("90 days"),
        description: "drop chunks older than this (none keeps data forever)",
        apply: |d, raw| {
            d.settings.timescaledb.retention = parse_retention(raw)?;
            Ok(())
        },
        show: |s| Retention(s.timescaledb.retention).to_string(),
    },
    Setting {
        env: "TIMESCALEDB_CHUNK_TIME_INTERVAL",
        section: "timescaledb",
        key: "chunk_time_interval",
        default: Some("1 day"),
        description: "time span of one chunk",
        apply: |d, raw| {
            d.settings.timescaledb.chunk_time_interval = raw.parse()?;
            Ok(())
        },
        show: |s| s.timescaledb.chunk_time_interval.to_string(),
    },
    Setting {
        env: "TIMESCALEDB_COMPRESSION_SEGMENT_BY",
        section: "timescaledb",
        key: "segment_by",
        default: Some(""),
        description: "compression segment-by columns (empty: TimescaleDB chooses)",
        apply: |d, raw| {
            d.settings.timescaledb.segment_by = parse_columns(raw)?;
            Ok(())
        },
        show: |s| Columns(&s.timescaledb.segment_by).to_string(),
    },
    Setting {
        env: "TIMESCALEDB_COMPRESSION_ORDER_BY",
        section: "timescaledb",
        key: "order_by",
        default: Some(""),
        description: "compression order-by items (empty: TimescaleDB chooses)",
        apply: |d, raw| {
            d.settings.timescaledb.order_by = parse_order_by(raw)?;
            Ok(())
        },
        show: |s| Columns(&s.timescaledb.order_by).to_string(),
    },
    Setting {
        env: "TIMESCALEDB_POLICY_SCHEDULE_INTERVAL",
        section: "timescaledb",
        key: "schedule_interval",
        default: Some("12 hours"),
        description: "how often the policy jobs run",
        apply: |d, raw| {
            d.settings.timescaledb.schedule_interval = parse_interval(raw)?;
            Ok(())
        },
        show: |s| s.timescaledb.schedule_interval.to_string(),
    },
    Setting {
        env: "TIMESCALEDB_MANAGED_TABLES",
        section: "timescaledb",
        key: "managed_tables",
        // Follows the demo unless given: the demo's tables in development, none otherwise.
        default: None,
        description: "hypertables the console manages (schema.table patterns, * wildcards; default: the demo tables when demo data is on, else none)",
        apply: |d, raw| {
            d.managed_tables = Some(parse_patterns(raw)?);
            Ok(())
        },
        show: |s| {
            if s.managed_tables.is_empty() {
                "none (only tables marked in the console or configured per table)".to_string()
            } else {
                s.managed_tables
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        },
    },
    Setting {
        env: "TIMESCALEDB_APPLY_POLICIES_ON_STARTUP",
        section: "timescaledb",
        key: "apply_on_startup",
        default: Some("true"),
        description: "make the live policies match these at start-up, in the background",
        apply: |d, raw| {
            d.settings.apply_policies_on_startup = parse_bool(raw)?;
            Ok(())
        },
        show: |s| s.apply_policies_on_startup.to_string(),
    },
];
