//! Data that crosses the wire between server and browser, defined once.

use serde::{Deserialize, Serialize};

/// One hypertable as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "db", derive(sqlx::FromRow))]
pub struct HypertableSummary {
    /// Schema holding the hypertable.
    pub schema: String,
    /// Hypertable name, unquoted.
    pub name: String,
    /// Total bytes: table, indexes and TOAST of every chunk, compressed or not.
    pub total_bytes: i64,
    /// Number of chunks.
    pub chunk_count: i64,
    /// Number of chunks currently compressed.
    pub compressed_chunk_count: i64,
    /// Whether compression (the columnstore) is enabled on the hypertable.
    pub compression_enabled: bool,
}

impl HypertableSummary {
    /// `schema.name` for display; not quoted, never used in SQL.
    pub fn display_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Overall status reported by the public health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Database reachable, TimescaleDB present and supported, start-up work succeeded.
    Ok,
    /// Serving, but something needs attention (extension missing, start-up task failed).
    Degraded,
    /// The database cannot be reached.
    Down,
}

/// Where the console's start-up work stands, as pages show it (no internals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartupStatus {
    /// Waiting for the database to answer.
    Connecting,
    /// Applying schema migrations.
    Migrating,
    /// Generating demo data; figures are still growing.
    LoadingDemoData,
    /// Start-up finished.
    Ready,
    /// A start-up step failed; the reason is in the server log.
    Failed,
}

/// Formats a byte count for people: `1.5 MiB`.
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_formatted_with_binary_units() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn health_status_serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&HealthStatus::Degraded).unwrap(),
            "\"degraded\""
        );
    }
}
