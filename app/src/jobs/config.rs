//! The jobs' settings (run-now time-out, the webhook shown): a leaf the state lists.

/// Job settings the server functions need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig {
    /// The statement time-out of "run now".
    pub run_timeout: std::time::Duration,
    /// Where alerts are posted, redacted for display; none when nowhere.
    pub webhook: Option<String>,
}

impl Default for JobConfig {
    fn default() -> Self {
        Self {
            run_timeout: std::time::Duration::from_secs(900),
            webhook: None,
        }
    }
}
