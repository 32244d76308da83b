//! Property tests of every parser and validator that takes text from outside: whatever
//! the input, no panic, and a refusal names the field (or the accepted form) it is about.
//! Identifier quoting round-trips any name.

use proptest::prelude::*;
use tsdb::chunk_query::ChunkQuery;
use tsdb::ident::quote_ident;
use tsdb::interval::{postgres_interval_seconds, PolicyInterval};
use tsdb::storage::parse_size;
use tsdb::storage::trends::{Range, View};

/// Text that looks like what people and scripts send: words, digits, units, signs,
/// quotes, control characters and any unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ 0-9a-zA-Z.:,;+\\-\"'\\\\/\\x00\\t\\n]{0,40}",
        "(-?[0-9]{1,25}(\\.[0-9]{0,5})? ?(days?|hours?|mins?|weeks?|months?|years?|GB|TiB|kB|s)?)",
    ]
}

/// Reads quoted text back the way PostgreSQL does.
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' && chars.next() != Some('"') {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn the_interval_parser_never_panics_and_names_the_form(raw in text()) {
        if let Err(error) = raw.parse::<PolicyInterval>() {
            prop_assert!(error.to_string().contains("interval"), "{}", error);
        }
        let _ = postgres_interval_seconds(&raw);
    }

    #[test]
    fn quoted_identifiers_read_back_as_the_name(name in any::<String>()) {
        prop_assert_eq!(unquote(&quote_ident(&name)), Some(name));
    }

    #[test]
    fn the_chunk_query_parser_names_the_parameter(
        name in prop::sample::select(vec!["hypertable", "from", "to", "compressed", "sort", "limit", "offset"]),
        value in text(),
    ) {
        let parsed = ChunkQuery::parse(|asked| (asked == name).then(|| value.clone()));
        if let Err(message) = parsed {
            prop_assert!(message.contains(name), "{} for {:?}", message, value);
        }
    }

    #[test]
    fn sizes_and_trend_choices_name_their_form(raw in text()) {
        if let Err(error) = parse_size(&raw) {
            prop_assert!(error.to_string().contains("500 GB"));
        }
        if let Err(message) = Range::parse(&raw) {
            prop_assert!(message.starts_with("range:"));
        }
        if let Err(message) = View::parse(&raw) {
            prop_assert!(message.starts_with("view:"));
        }
    }
}
