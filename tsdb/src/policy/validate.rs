//! The policy form as an admin fills it in, checked against the real table: each value
//! parsed with the error next to its field, columns that exist, ages of the table's own
//! kind (intervals or whole numbers), retention longer than compress-after. Shared by the
//! browser (first check) and the server (the authority).

use super::live::{canonical_order_item, LiveTable};
use super::{
    parse_bool, parse_columns, parse_compress_after, parse_interval, parse_order_by, parse_refresh,
    parse_retention, CompressAfter, Policy, PolicyAge, PolicyEdit, PolicyOverride, PolicyProblem,
    RefreshList, TimeKind,
};
use serde::{Deserialize, Serialize};

/// The form's fields as typed; an empty (or absent) field follows the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyForm {
    /// `follow`, `yes` or `no`.
    pub managed: String,
    /// `true`, `false` or empty.
    pub compression_enabled: String,
    /// An age or empty.
    pub compression_after: String,
    /// An age, `none`, or empty.
    pub retention: String,
    /// An age or empty.
    pub chunk_time_interval: String,
    /// Columns or empty.
    pub segment_by: String,
    /// Order-by items or empty.
    pub order_by: String,
    /// An interval or empty.
    pub schedule_interval: String,
    /// An interval or empty: the compression job's own schedule.
    pub compression_schedule: String,
    /// An interval or empty: the retention job's own schedule.
    pub retention_schedule: String,
    /// A continuous aggregate's refresh policies (`30 days to 1 hour every 1 hour; …`),
    /// `none`, or empty.
    pub refresh: String,
    /// When the relation is taken under management, where empty fields come from:
    /// `live` (keep what TimescaleDB has now; the default) or `defaults` (the configured
    /// policy).
    pub adopt: String,
}

/// A refused field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field (as in [`PolicyForm`]).
    pub field: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl PolicyForm {
    /// The form showing a stored edit (empty fields where the configuration applies).
    pub fn from_edit(edit: &PolicyEdit) -> Self {
        let o = &edit.overrides;
        let text = |v: Option<String>| v.unwrap_or_default();
        Self {
            managed: match edit.managed {
                None => "follow".into(),
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
            },
            compression_enabled: text(o.compression_enabled.map(|v| v.to_string())),
            compression_after: text(o.compression_after.map(|v| CompressAfter(v).to_string()))
                .replace(" (no compression policy)", ""),
            retention: match o.retention {
                None => String::new(),
                Some(None) => "none".into(),
                Some(Some(v)) => v.to_string(),
            },
            chunk_time_interval: text(o.chunk_time_interval.map(|v| v.to_string())),
            segment_by: text(o.segment_by.as_ref().map(|v| v.join(", "))),
            order_by: text(o.order_by.as_ref().map(|v| v.join(", "))),
            schedule_interval: text(o.schedule_interval.map(|v| v.to_string())),
            compression_schedule: text(o.compression_schedule.map(|v| v.to_string())),
            retention_schedule: text(o.retention_schedule.map(|v| v.to_string())),
            refresh: text(o.refresh.as_deref().map(|v| RefreshList(v).to_string())),
            adopt: String::new(),
        }
    }
}

/// The refused fields of one form.
#[derive(Default)]
struct Refusals(Vec<FieldError>);

impl Refusals {
    fn refuse(&mut self, field: &str, message: String) {
        self.0.push(FieldError {
            field: field.into(),
            message,
        });
    }

    /// An age of the table's kind from a non-empty field.
    fn age(&mut self, table: &LiveTable, field: &str, raw: Option<String>) -> Option<PolicyAge> {
        let raw = raw?;
        match raw.parse::<PolicyAge>() {
            Ok(age) if age.kind() == table.time_kind => Some(age),
            Ok(_) => {
                self.refuse(
                    field,
                    format!(
                        "{raw:?}: {} is partitioned by {} ({}): expected {}",
                        table.name,
                        table.time_column,
                        table.time_type,
                        kind_word(table.time_kind)
                    ),
                );
                None
            }
            Err(e) => {
                self.refuse(field, format!("{raw:?}: expected {e}"));
                None
            }
        }
    }

    /// Columns that are not the table's, named with the table's real columns.
    fn unknown_columns(&mut self, table: &LiveTable, field: &str, columns: &[String]) -> bool {
        let missing: Vec<String> = columns
            .iter()
            .filter(|c| !table.columns.contains(c))
            .map(|c| format!("{c:?}"))
            .collect();
        if !missing.is_empty() {
            self.refuse(
                field,
                format!(
                    "{} has no column {}; its columns: {}",
                    table.name,
                    missing.join(", "),
                    table.columns.join(", ")
                ),
            );
        }
        !missing.is_empty()
    }
}

fn kind_word(kind: TimeKind) -> &'static str {
    match kind {
        TimeKind::Time => "an interval such as \"7 days\"",
        TimeKind::Integer => "a whole number in the time column's unit",
    }
}

/// The column an order-by item sorts by.
fn order_column(item: &str) -> String {
    canonical_order_item(item)
        .trim_end_matches(" NULLS FIRST")
        .trim_end_matches(" NULLS LAST")
        .trim_end_matches(" DESC")
        .to_string()
}

/// Checks `form` against `table` and the policy it would override (`base`: defaults and
/// the configuration file); the edit to store, or every refused field.
pub fn validate(
    form: &PolicyForm,
    table: &LiveTable,
    base: &Policy,
) -> Result<PolicyEdit, Vec<FieldError>> {
    let mut r = Refusals::default();
    let managed = match form.managed.trim() {
        "" | "follow" => None,
        "yes" => Some(true),
        "no" => Some(false),
        other => {
            r.refuse("managed", format!("{other:?}: expected follow, yes or no"));
            None
        }
    };
    let given = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_string());
    let mut overrides = PolicyOverride::default();
    if let Some(raw) = given(&form.compression_enabled) {
        match parse_bool(&raw) {
            Ok(v) => overrides.compression_enabled = Some(v),
            Err(e) => r.refuse("compression_enabled", format!("{raw:?}: expected {e}")),
        }
    }
    if let Some(raw) = given(&form.compression_after) {
        match parse_compress_after(&raw) {
            Ok(None) => overrides.compression_after = Some(None),
            Ok(Some(_)) => {
                if let Some(age) = r.age(table, "compression_after", Some(raw)) {
                    overrides.compression_after = Some(Some(age));
                }
            }
            Err(e) => r.refuse("compression_after", format!("{raw:?}: expected {e}")),
        }
    }
    overrides.chunk_time_interval = r.age(
        table,
        "chunk_time_interval",
        given(&form.chunk_time_interval),
    );
    if let Some(raw) = given(&form.retention) {
        match parse_retention(&raw) {
            Ok(None) => overrides.retention = Some(None),
            Ok(Some(_)) => {
                if let Some(age) = r.age(table, "retention", Some(raw)) {
                    overrides.retention = Some(Some(age));
                }
            }
            Err(e) => r.refuse("retention", format!("{raw:?}: expected {e}")),
        }
    }
    if let Some(raw) = given(&form.segment_by) {
        match parse_columns(&raw) {
            Ok(columns) => {
                if !r.unknown_columns(table, "segment_by", &columns) {
                    overrides.segment_by = Some(columns);
                }
            }
            Err(e) => r.refuse("segment_by", format!("{raw:?}: expected {e}")),
        }
    }
    if let Some(raw) = given(&form.order_by) {
        match parse_order_by(&raw) {
            Ok(items) => {
                let columns: Vec<String> = items.iter().map(|i| order_column(i)).collect();
                if !r.unknown_columns(table, "order_by", &columns) {
                    overrides.order_by = Some(items);
                }
            }
            Err(e) => r.refuse("order_by", format!("{raw:?}: expected {e}")),
        }
    }
    for (field, raw, slot) in [
        (
            "schedule_interval",
            &form.schedule_interval,
            &mut overrides.schedule_interval,
        ),
        (
            "compression_schedule",
            &form.compression_schedule,
            &mut overrides.compression_schedule,
        ),
        (
            "retention_schedule",
            &form.retention_schedule,
            &mut overrides.retention_schedule,
        ),
    ] {
        if let Some(raw) = given(raw) {
            match parse_interval(&raw) {
                Ok(v) => *slot = Some(v),
                Err(e) => r.refuse(field, format!("{raw:?}: expected {e}")),
            }
        }
    }
    if let Some(raw) = given(&form.refresh) {
        match parse_refresh(&raw) {
            Ok(policies) => {
                let wrong_kind = policies
                    .iter()
                    .flat_map(|p| [p.start_offset, p.end_offset])
                    .flatten()
                    .any(|age| age.kind() != table.time_kind);
                if wrong_kind {
                    r.refuse(
                        "refresh",
                        format!(
                            "{raw:?}: {} is partitioned by {} ({}): offsets must be {}",
                            table.name,
                            table.time_column,
                            table.time_type,
                            kind_word(table.time_kind)
                        ),
                    );
                } else {
                    overrides.refresh = Some(policies);
                }
            }
            Err(e) => r.refuse("refresh", format!("{raw:?}: expected {e}")),
        }
    }
    match form.adopt.trim() {
        "" | "live" | "defaults" => {}
        other => r.refuse("adopt", format!("{other:?}: expected live or defaults")),
    }
    if r.0.is_empty() {
        let effective = overrides.over(base);
        for problem in effective.problems() {
            match problem {
                PolicyProblem::RetentionNotAfterCompression => r.refuse(
                    "retention",
                    format!(
                        "retention {} must be longer than compress-after {}, or chunks are dropped before they are ever compressed",
                        super::Retention(effective.retention),
                        CompressAfter(effective.compression_after)
                    ),
                ),
                PolicyProblem::MixedTimeKinds => r.refuse(
                    "chunk_time_interval",
                    format!(
                        "the policy mixes intervals and whole numbers; {} needs {} everywhere",
                        table.name,
                        kind_word(table.time_kind)
                    ),
                ),
            }
        }
    }
    if r.0.is_empty() {
        Ok(PolicyEdit { managed, overrides })
    } else {
        Err(r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::HypertableName;

    fn table() -> LiveTable {
        LiveTable {
            name: HypertableName::new("factory_telemetry", "metric_hist"),
            time_column: "ts".into(),
            time_type: "timestamp with time zone".into(),
            time_kind: TimeKind::Time,
            chunk_interval: None,
            compression_enabled: true,
            segment_by: vec![],
            order_by: vec![],
            compressed_chunks: 0,
            compression_policy: None,
            retention_policy: None,
            columns: vec!["ts".into(), "equipment_id".into(), "value".into()],
        }
    }

    fn base() -> Policy {
        Policy::seed()
    }

    #[test]
    fn every_bad_field_is_named() {
        let form = PolicyForm {
            managed: "maybe".into(),
            compression_after: "7 dayz".into(),
            retention: "300000".into(),
            segment_by: "equipment_id, line_id".into(),
            order_by: "ts sideways".into(),
            schedule_interval: "0 hours".into(),
            ..Default::default()
        };
        let errors = validate(&form, &table(), &base()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "managed",
                "compression_after",
                "retention",
                "segment_by",
                "order_by",
                "schedule_interval"
            ]
        );
        assert!(
            errors[2].message.contains("partitioned by ts"),
            "{}",
            errors[2].message
        );
        assert!(
            errors[3].message.contains("no column \"line_id\""),
            "{}",
            errors[3].message
        );
    }

    #[test]
    fn a_valid_form_becomes_an_edit_and_back() {
        let form = PolicyForm {
            managed: "yes".into(),
            retention: "none".into(),
            segment_by: "equipment_id".into(),
            order_by: "ts desc".into(),
            ..Default::default()
        };
        let edit = validate(&form, &table(), &base()).unwrap();
        assert_eq!(edit.managed, Some(true));
        assert_eq!(edit.overrides.retention, Some(None));
        assert_eq!(edit.overrides.order_by.as_deref().unwrap(), ["ts DESC"]);
        let shown = PolicyForm::from_edit(&edit);
        assert_eq!(shown.retention, "none");
        assert_eq!(shown.order_by, "ts DESC");
        assert_eq!(shown.compression_after, "");
    }

    #[test]
    fn retention_must_outlast_compress_after_after_merging() {
        let form = PolicyForm {
            retention: "5 days".into(),
            ..Default::default()
        };
        let errors = validate(&form, &table(), &base()).unwrap_err();
        assert_eq!(errors[0].field, "retention");
        assert!(errors[0]
            .message
            .contains("longer than compress-after 7 days"));
    }
}
