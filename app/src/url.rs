//! Percent-encoding for the links and redirects the console builds itself.

/// Percent-encodes `text` for a URL path segment or query value; `/` stays as it is when
/// `keep_slash` (a whole path), everything but unreserved characters is escaped.
pub fn encode(text: &str, keep_slash: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b'/' if keep_slash => "/".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A table's page: `/hypertables/{schema}/{name}`, each part encoded.
pub fn hypertable_page(schema: &str, name: &str) -> String {
    format!(
        "/hypertables/{}/{}",
        encode(schema, false),
        encode(name, false)
    )
}

/// The compression advisor of a table: its page's address and `/advisor`.
pub fn advisor_page(schema: &str, name: &str) -> String {
    format!("{}/advisor", hypertable_page(schema, name))
}

/// A table's or aggregate's policy form: `/policies/{schema}/{name}`, each part encoded.
pub fn policy_page(schema: &str, name: &str) -> String {
    format!(
        "/policies/{}/{}",
        encode(schema, false),
        encode(name, false)
    )
}

/// The page of a table given by its display name (`schema.name`, parts quoted as
/// `tsdb::ident::display_name` writes them); none for text that is not such a name.
pub fn hypertable_page_named(display: &str) -> Option<String> {
    let (schema, name) = tsdb::ident::parse_display_name(display).ok()?;
    Some(hypertable_page(&schema, &name))
}

/// The policy form of a table or aggregate given by its display name; none for text that
/// is not such a name.
pub fn policy_page_named(display: &str) -> Option<String> {
    let (schema, name) = tsdb::ident::parse_display_name(display).ok()?;
    Some(policy_page(&schema, &name))
}

/// A job's page: `/jobs/{id}`.
pub fn job_page(id: i64) -> String {
    format!("/jobs/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_escaped() {
        assert_eq!(
            encode("My Schema/\"x\"&y", false),
            "My%20Schema%2F%22x%22%26y"
        );
        assert_eq!(encode("/chunks?x=1", true), "/chunks%3Fx%3D1");
    }

    #[test]
    fn page_addresses_encode_each_part() {
        assert_eq!(hypertable_page("a.b", "c d"), "/hypertables/a.b/c%20d");
        assert_eq!(advisor_page("s", "t/u"), "/hypertables/s/t%2Fu/advisor");
        assert_eq!(policy_page("Plant", "m\"x"), "/policies/Plant/m%22x");
        assert_eq!(job_page(1000), "/jobs/1000");
        // A quoted part may hold the dot that separates schema and name.
        assert_eq!(
            hypertable_page_named(r#""Odd.Schema"."m""x""#).as_deref(),
            Some("/hypertables/Odd.Schema/m%22x")
        );
        assert_eq!(
            policy_page_named("factory_telemetry.metric_hist").as_deref(),
            Some("/policies/factory_telemetry/metric_hist")
        );
        assert_eq!(hypertable_page_named("no_schema"), None);
    }
}
