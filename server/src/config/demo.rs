//! The MS5.0 demo data loaded into empty tables (never in production).

use super::setting::{parse_count, Setting};
use tsdb::policy::parse_bool;

/// Demo settings.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "MS5_DEMO_DATA",
        section: "demo",
        key: "enabled",
        // Follows the profile unless given: on in development only.
        default: None,
        description: "load demo data into empty demo tables (default: on in development)",
        apply: |d, raw| {
            d.demo_enabled = Some(parse_bool(raw)?);
            Ok(())
        },
        show: |s| s.demo.enabled.to_string(),
    },
    Setting {
        env: "MS5_DEMO_DAYS",
        section: "demo",
        key: "days",
        default: Some("120"),
        description: "days of demo history, ending now",
        apply: |d, raw| {
            d.settings.demo.days = parse_count(raw, 1, 3650)?;
            Ok(())
        },
        show: |s| s.demo.days.to_string(),
    },
    Setting {
        env: "MS5_DEMO_EQUIPMENT",
        section: "demo",
        key: "equipment",
        default: Some("12"),
        description: "demo machines (4 per line)",
        apply: |d, raw| {
            d.settings.demo.equipment = parse_count(raw, 1, 1000)?;
            Ok(())
        },
        show: |s| s.demo.equipment.to_string(),
    },
    Setting {
        env: "MS5_DEMO_SAMPLE_SECONDS",
        section: "demo",
        key: "sample_seconds",
        default: Some("900"),
        description: "seconds between two demo samples of one metric",
        apply: |d, raw| {
            d.settings.demo.sample_seconds = parse_count(raw, 10, 86_400)?;
            Ok(())
        },
        show: |s| s.demo.sample_seconds.to_string(),
    },
];
