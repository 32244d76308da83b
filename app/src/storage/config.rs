//! The storage settings (budget, horizon, sample interval): a leaf the state lists.

/// Storage settings the server functions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageConfig {
    /// The limit the forecast is held against.
    pub budget: tsdb::storage::outlook::Budget,
    /// Days the forecast looks ahead.
    pub horizon_days: u32,
    /// Seconds between samples (the page says how fresh the history is).
    pub sample_seconds: u32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            budget: Default::default(),
            horizon_days: 90,
            sample_seconds: 3600,
        }
    }
}
