//! How long a browser session lives.

use super::setting::{parse_count, Setting};

/// Session settings.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "MS5_SESSION_IDLE_MINUTES",
        section: "session",
        key: "idle_minutes",
        default: Some("30"),
        description: "signed out after this many minutes without a request",
        apply: |d, raw| {
            d.settings.session_idle_minutes = parse_count(raw, 1, 1440)?;
            Ok(())
        },
        show: |s| s.session_idle_minutes.to_string(),
    },
    Setting {
        env: "MS5_SESSION_ABSOLUTE_HOURS",
        section: "session",
        key: "absolute_hours",
        default: Some("12"),
        description: "signed out this many hours after signing in",
        apply: |d, raw| {
            d.settings.session_absolute_hours = parse_count(raw, 1, 720)?;
            Ok(())
        },
        show: |s| s.session_absolute_hours.to_string(),
    },
];
