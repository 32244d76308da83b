//! The audit trail's server function (admins only).

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::access_types::{AuditPage, AuditQuery};

/// One page of the audit trail matching the filters.
#[server(prefix = "/api/fn", endpoint = "audit-log")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPage, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    check(&query)?;
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    let mut page = tsdb::audit::search(&pool, &query).await?;
    let policy_changes: Vec<i64> = page
        .records
        .iter()
        .filter(|r| r.action == "policy.edit" || r.action == "policy.revert")
        .map(|r| r.id)
        .collect();
    if !policy_changes.is_empty() {
        page.reverted = tsdb::policy::store::reverted(&pool, &policy_changes).await?;
    }
    Ok(page)
}

/// The longest text filter accepted.
const MAX_FILTER: usize = 200;

/// Refuses text filters PostgreSQL cannot take (a NUL byte) or no entry can match (longer
/// than any actor, action or object); the message names the field.
pub fn check(query: &AuditQuery) -> Result<(), AppError> {
    let fields = [
        ("actor", &query.actor),
        ("action", &query.action),
        ("object_type", &query.object_type),
        ("object_id", &query.object_id),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            if value.chars().count() > MAX_FILTER || value.chars().any(char::is_control) {
                return Err(AppError::Invalid(format!(
                    "{name}: at most {MAX_FILTER} characters, without control characters"
                )));
            }
        }
    }
    Ok(())
}

/// The audit filters from a page's query parameters (`actor`, `action`, `object_type`,
/// `object_id`, `from`, `to` as `YYYY-MM-DDTHH:MM` in UTC, `before`); the error names
/// the parameter and the accepted form.
pub fn query_from_params(get: impl Fn(&str) -> Option<String>) -> Result<AuditQuery, AppError> {
    let text = |name: &str| {
        get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let time = |name: &str| {
        text(name)
            .map(|value| {
                chrono::NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M")
                    .or_else(|_| chrono::NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S"))
                    .map(|t| t.and_utc())
                    .map_err(|_| {
                        AppError::Invalid(format!(
                            "{name} {value:?}: expected a time such as 2026-11-25T08:30 (UTC)"
                        ))
                    })
            })
            .transpose()
    };
    let before = text("before")
        .map(|value| {
            value.parse::<i64>().map_err(|_| {
                AppError::Invalid(format!("before {value:?}: expected an entry number"))
            })
        })
        .transpose()?;
    let query = AuditQuery {
        actor: text("actor"),
        action: text("action"),
        object_type: text("object_type"),
        object_id: text("object_id"),
        from: time("from")?,
        to: time("to")?,
        before,
        limit: None,
    };
    check(&query)?;
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<AuditQuery, AppError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        query_from_params(|name| map.get(name).cloned())
    }

    #[test]
    fn filters_are_read_from_the_query_string() {
        let query = parse(&[
            ("actor", " admin "),
            ("action", "user."),
            ("object_type", ""),
            ("from", "2026-11-25T08:30"),
            ("before", "120"),
        ])
        .unwrap();
        assert_eq!(query.actor.as_deref(), Some("admin"));
        assert_eq!(query.action.as_deref(), Some("user."));
        assert_eq!(query.object_type, None);
        assert_eq!(
            query.from.map(|t| t.to_rfc3339()),
            Some("2026-11-25T08:30:00+00:00".into())
        );
        assert_eq!(query.before, Some(120));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let error = parse(&[("to", "yesterday")]).unwrap_err().to_string();
        assert!(
            error.starts_with("to \"yesterday\": expected a time"),
            "{error}"
        );
        let error = parse(&[("before", "x")]).unwrap_err().to_string();
        assert!(error.starts_with("before \"x\""), "{error}");
        let error = parse(&[("actor", "ad\u{0}min")]).unwrap_err().to_string();
        assert!(error.starts_with("actor: at most 200"), "{error}");
        let long = "x".repeat(201);
        let error = parse(&[("object_id", &long)]).unwrap_err().to_string();
        assert!(error.starts_with("object_id: at most 200"), "{error}");
    }
}
