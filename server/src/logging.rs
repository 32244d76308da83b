//! Structured logs through `tracing`.

use crate::config::LogLevel;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG`, when set, refines `level` per module.
pub fn init(level: LogLevel) {
    let default = format!(
        "{level},sqlx=warn,tower_http=info,hyper=warn",
        level = level.as_str()
    );
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .init();
}
