//! Strict parsers for policy values. Each error is the accepted form, worded to follow
//! "expected": the caller names the field and the value.

use super::PolicyAge;
use std::fmt;

/// `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`).
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("true or false".into()),
    }
}

/// An age, or `none` (also `off` or nothing) to keep data forever.
pub fn parse_retention(raw: &str) -> Result<Option<PolicyAge>, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "none" | "off" => Ok(None),
        _ => raw
            .parse::<PolicyAge>()
            .map(Some)
            .map_err(|form| format!("{form}; or \"none\" to keep data forever")),
    }
}

/// A compress-after, or `none` for no compression policy (chunks compressed by hand).
pub fn parse_compress_after(raw: &str) -> Result<Option<PolicyAge>, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "none" | "off" => Ok(None),
        _ => raw
            .parse::<PolicyAge>()
            .map(Some)
            .map_err(|form| format!("{form}; or \"none\" for no compression policy")),
    }
}

/// The accepted form of refresh policies, following "expected".
pub const REFRESH_FORM: &str = "refresh policies separated by \";\", each \"START to END every SCHEDULE\" such as \"30 days to 1 hour every 1 hour\" (START and END are how long ago the window begins and ends; \"none\" for START refreshes from the beginning, for END up to now), or \"none\" for no refresh policy";

/// Refresh policies: `30 days to 1 hour every 1 hour; none to 30 days every 1 day`, or
/// `none` for no refresh policy at all.
pub fn parse_refresh(raw: &str) -> Result<Vec<super::target::RefreshTarget>, String> {
    let text = raw.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let offset = |word: &str| -> Result<Option<PolicyAge>, String> {
        if word.trim().eq_ignore_ascii_case("none") {
            Ok(None)
        } else {
            word.parse::<PolicyAge>()
                .map(Some)
                .map_err(|_| REFRESH_FORM.to_string())
        }
    };
    let policies: Vec<super::target::RefreshTarget> = text
        .split(';')
        .map(|item| {
            let lower = item.to_ascii_lowercase();
            let (window, schedule) = lower.split_once(" every ").ok_or(REFRESH_FORM)?;
            let (start, end) = window.split_once(" to ").ok_or(REFRESH_FORM)?;
            let refresh = super::target::RefreshTarget {
                start_offset: offset(start)?,
                end_offset: offset(end)?,
                schedule: schedule
                    .trim()
                    .parse()
                    .map_err(|_| REFRESH_FORM.to_string())?,
            };
            // TimescaleDB refuses a window that ends before it starts.
            if let (Some(s), Some(e)) = (refresh.start_offset, refresh.end_offset) {
                if s.kind() != e.kind() || s.magnitude() <= e.magnitude() {
                    return Err(format!(
                        "{REFRESH_FORM}; START must reach further back than END"
                    ));
                }
            }
            Ok(refresh)
        })
        .collect::<Result<_, String>>()?;
    if policies.len() > MAX_REFRESH_POLICIES {
        return Err(format!(
            "{REFRESH_FORM}; at most {MAX_REFRESH_POLICIES} refresh policies"
        ));
    }
    // TimescaleDB refuses windows that overlap (touching is fine): each covers the ages
    // from its end (None: now) to its start (None: the beginning).
    let span = |r: &super::target::RefreshTarget| {
        (
            r.end_offset.map_or(i64::MIN, PolicyAge::magnitude),
            r.start_offset.map_or(i64::MAX, PolicyAge::magnitude),
        )
    };
    for (i, a) in policies.iter().enumerate() {
        for b in &policies[i + 1..] {
            let ((a_end, a_start), (b_end, b_start)) = (span(a), span(b));
            if a_end < b_start && b_end < a_start {
                return Err(format!("{REFRESH_FORM}; the windows must not overlap"));
            }
        }
    }
    Ok(policies)
}

/// More refresh policies than anyone needs on one aggregate.
const MAX_REFRESH_POLICIES: usize = 10;

/// Column names are quoted when used, so any name is safe; refuse only the unusable.
fn parse_column(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.len() > 63 || name.chars().any(char::is_control) {
        return Err(
            "column names separated by commas, such as \"equipment_id, metric_name\"".into(),
        );
    }
    Ok(name.to_string())
}

/// Column names separated by commas; nothing lets TimescaleDB choose.
pub fn parse_columns(raw: &str) -> Result<Vec<String>, String> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    raw.split(',').map(parse_column).collect()
}

/// Order-by items separated by commas, each a column with optional `ASC`/`DESC` and
/// `NULLS FIRST`/`LAST`; the keywords come back in capitals.
pub fn parse_order_by(raw: &str) -> Result<Vec<String>, String> {
    let accepted = "items separated by commas, each a column with optional ASC/DESC and NULLS FIRST/LAST, such as \"ts DESC\"";
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    raw.split(',')
        .map(|item| {
            let words: Vec<&str> = item.split_whitespace().collect();
            let (column, modifiers) = words.split_first().ok_or(accepted)?;
            let column = parse_column(column).map_err(|_| accepted)?;
            let modifiers: Vec<String> = modifiers.iter().map(|w| w.to_ascii_uppercase()).collect();
            let valid = matches!(
                modifiers
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice(),
                [] | ["ASC"]
                    | ["DESC"]
                    | ["NULLS", "FIRST" | "LAST"]
                    | ["ASC" | "DESC", "NULLS", "FIRST" | "LAST"]
            );
            if !valid {
                return Err(accepted.to_string());
            }
            Ok(std::iter::once(column)
                .chain(modifiers)
                .collect::<Vec<_>>()
                .join(" "))
        })
        .collect()
}

/// A hypertable (or continuous aggregate) by its unquoted schema and name: a pair, never
/// a dotted string, so `"a.b".c` and `a."b.c"` stay two relations. Written and read as
/// [`crate::ident::display_name`] shows it.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct HypertableName {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
}

impl std::str::FromStr for HypertableName {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        crate::ident::parse_display_name(raw).map(|(schema, table)| Self { schema, table })
    }
}

impl HypertableName {
    /// From its unquoted parts.
    pub fn new(schema: impl Into<String>, table: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            table: table.into(),
        }
    }

    /// The name quoted for SQL (`"schema"."table"`), to bind as `$n::regclass` or to
    /// splice into DDL.
    pub fn quoted(&self) -> String {
        crate::ident::QualifiedName::new(&self.schema, &self.table).to_string()
    }
}

impl fmt::Display for HypertableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::ident::display_name(&self.schema, &self.table))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_items_are_checked_and_normalised() {
        assert_eq!(
            parse_order_by("ts desc nulls last, id").unwrap(),
            ["ts DESC NULLS LAST", "id"]
        );
        assert!(parse_order_by("ts sideways").is_err());
        assert!(parse_columns("a,,b").is_err());
        assert_eq!(parse_columns(" ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn hypertable_names_need_a_schema() {
        let name: HypertableName = "factory_telemetry.metric_hist".parse().unwrap();
        assert_eq!(
            (name.schema.as_str(), name.table.as_str()),
            ("factory_telemetry", "metric_hist")
        );
        assert!("metric_hist".parse::<HypertableName>().is_err());
        assert!(".x".parse::<HypertableName>().is_err());
        let dotted = HypertableName::new("zz_probe.a", "b");
        assert_eq!(dotted.to_string(), "\"zz_probe.a\".b");
        assert_eq!(
            dotted.to_string().parse::<HypertableName>().unwrap(),
            dotted
        );
    }

    #[test]
    fn refresh_windows_are_read_and_written_back() {
        let parsed =
            parse_refresh("30 days to 1 hour every 1 hour; None to 30 days every 1 day").unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].start_offset, None);
        assert_eq!(
            super::super::RefreshList(&parsed).to_string(),
            "30 days to 1 hour every 1 hour; none to 30 days every 1 day"
        );
        assert!(parse_refresh("none").unwrap().is_empty());
        for bad in [
            "30 days every 1 hour",
            "1 hour to 30 days every 1 hour",
            "x to y every z",
        ] {
            assert!(parse_refresh(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retention_none_is_forever() {
        assert_eq!(parse_retention("None").unwrap(), None);
        let refused = parse_retention("90 dayz").unwrap_err();
        assert!(
            refused.ends_with("or \"none\" to keep data forever"),
            "{refused}"
        );
    }
}
