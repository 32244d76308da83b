//! The session and credential settings the server takes from its configuration: a leaf,
//! so the application state can hold them without depending on how requests resolve.

use std::time::Duration;

/// Session settings the server reads from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSettings {
    /// Idle and absolute time-outs.
    pub timeouts: tsdb::sessions::Timeouts,
    /// Whether the session cookie is marked `Secure` (all profiles but development).
    pub secure_cookie: bool,
    /// Whether `/metrics` answers without credentials.
    pub metrics_public: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            timeouts: tsdb::sessions::Timeouts {
                idle: Duration::from_secs(30 * 60),
                absolute: Duration::from_secs(12 * 3600),
            },
            secure_cookie: true,
            metrics_public: false,
        }
    }
}
