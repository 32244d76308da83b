//! How the console protects itself from slow, greedy or hostile clients: how long request
//! headers and bodies may take to arrive, how large a body may be, how many connections
//! and requests it takes at once, and how long a graceful stop waits for them.

use super::setting::{parse_count, Setting};
use app::auth::proxy::TrustedProxies;

/// HTTP limits.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "MS5_HTTP_HEADER_TIMEOUT_SECONDS",
        section: "http",
        key: "header_timeout_seconds",
        default: Some("10"),
        description: "a connection whose request headers have not all arrived within this many seconds is closed (also an idle kept-alive one)",
        apply: |d, raw| {
            d.settings.http.header_timeout_seconds = parse_count(raw, 1, 300)?;
            Ok(())
        },
        show: |s| s.http.header_timeout_seconds.to_string(),
    },
    Setting {
        env: "MS5_HTTP_BODY_TIMEOUT_SECONDS",
        section: "http",
        key: "body_timeout_seconds",
        default: Some("30"),
        description: "a request body not received in full within this many seconds is refused with 408",
        apply: |d, raw| {
            d.settings.http.body_timeout_seconds = parse_count(raw, 1, 3600)?;
            Ok(())
        },
        show: |s| s.http.body_timeout_seconds.to_string(),
    },
    Setting {
        env: "MS5_HTTP_MAX_BODY_KIB",
        section: "http",
        key: "max_body_kib",
        default: Some("1024"),
        description: "largest request body in KiB; larger ones are refused with 413",
        apply: |d, raw| {
            d.settings.http.max_body_kib = parse_count(raw, 1, 102_400)?;
            Ok(())
        },
        show: |s| s.http.max_body_kib.to_string(),
    },
    Setting {
        env: "MS5_HTTP_MAX_CONNECTIONS",
        section: "http",
        key: "max_connections",
        default: Some("1024"),
        description: "open client connections at most; further ones wait in the listen queue",
        apply: |d, raw| {
            d.settings.http.max_connections = parse_count(raw, 1, 65_536)?;
            Ok(())
        },
        show: |s| s.http.max_connections.to_string(),
    },
    Setting {
        env: "MS5_HTTP_MAX_IN_FLIGHT",
        section: "http",
        key: "max_in_flight",
        default: Some("256"),
        description: "requests handled at once; more are answered 503 with Retry-After at once",
        apply: |d, raw| {
            d.settings.http.max_in_flight = parse_count(raw, 1, 65_536)?;
            Ok(())
        },
        show: |s| s.http.max_in_flight.to_string(),
    },
    Setting {
        env: "MS5_HTTP_SHUTDOWN_SECONDS",
        section: "http",
        key: "shutdown_seconds",
        default: Some("30"),
        description: "on SIGTERM, how long requests in flight may take to finish before the console exits anyway",
        apply: |d, raw| {
            d.settings.http.shutdown_seconds = parse_count(raw, 1, 3600)?;
            Ok(())
        },
        show: |s| s.http.shutdown_seconds.to_string(),
    },
    Setting {
        env: "MS5_TRUSTED_PROXIES",
        section: "http",
        key: "trusted_proxies",
        default: Some("none"),
        description: "reverse proxies (addresses or ranges, comma-separated) whose X-Forwarded-For/-Proto/-Host are believed; none: ignored from everyone",
        apply: |d, raw| {
            d.settings.http.trusted_proxies = TrustedProxies::parse(raw)?;
            Ok(())
        },
        show: |s| {
            if s.http.trusted_proxies.0.is_empty() {
                "none".into()
            } else {
                let ranges: Vec<String> =
                    s.http.trusted_proxies.0.iter().map(ToString::to_string).collect();
                ranges.join(", ")
            }
        },
    },
];

/// HTTP limits, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `MS5_HTTP_HEADER_TIMEOUT_SECONDS`.
    pub header_timeout_seconds: u32,
    /// `MS5_HTTP_BODY_TIMEOUT_SECONDS`.
    pub body_timeout_seconds: u32,
    /// `MS5_HTTP_MAX_BODY_KIB`.
    pub max_body_kib: u32,
    /// `MS5_HTTP_MAX_CONNECTIONS`.
    pub max_connections: u32,
    /// `MS5_HTTP_MAX_IN_FLIGHT`.
    pub max_in_flight: u32,
    /// `MS5_HTTP_SHUTDOWN_SECONDS`.
    pub shutdown_seconds: u32,
    /// `MS5_TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
}
