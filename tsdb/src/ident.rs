//! Quoting for the few statements (DDL) where a value cannot be bound: the one place
//! identifiers and literals are turned into SQL text.

use std::fmt;

/// Quotes an SQL identifier the way PostgreSQL's `quote_ident` does, always with quotes:
/// embedded double quotes are doubled, so any name is safe to splice into DDL.
pub fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Quotes a string literal the way PostgreSQL's `quote_literal` does with
/// `standard_conforming_strings` on (the default since 9.1): single quotes doubled, and
/// the `E''` form when the text holds a backslash, so no setting can change its meaning.
pub fn quote_literal(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 3);
    if text.contains('\\') {
        quoted.push('E');
    }
    quoted.push('\'');
    for c in text.chars() {
        match c {
            '\'' => quoted.push_str("''"),
            '\\' => quoted.push_str("\\\\"),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    quoted
}

/// A schema-qualified relation name; `Display` renders it quoted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    /// Schema name, unquoted.
    pub schema: String,
    /// Relation name, unquoted.
    pub name: String,
}

impl QualifiedName {
    /// Builds a name from its unquoted parts.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}",
            quote_ident(&self.schema),
            quote_ident(&self.name)
        )
    }
}

/// Whether PostgreSQL would print `part` without quotes: lower-case ASCII letters, digits
/// and underscores, not starting with a digit (keywords aside, which never name tables
/// the console shows).
fn is_plain(part: &str) -> bool {
    let mut chars = part.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A relation name as people read it and as the console writes it in texts, labels,
/// links and parameters: `schema.name`, each part double-quoted only when it needs it, as
/// PostgreSQL prints a `regclass`. Unlike a bare `schema.name`, it never makes two
/// relations look alike (`"a.b".c` and `a."b.c"`); [`parse_display_name`] reads it back.
pub fn display_name(schema: &str, name: &str) -> String {
    let part = |p: &str| {
        if is_plain(p) {
            p.to_string()
        } else {
            quote_ident(p)
        }
    };
    format!("{}.{}", part(schema), part(name))
}

/// The accepted form of a relation name, following "expected".
pub const NAME_FORM: &str = "a schema-qualified name such as factory_telemetry.metric_hist; double-quote a part that holds a dot, a quote or capitals (\"My Schema\".\"Odd.Name\", doubling quotes inside)";

/// Reads a name written by [`display_name`] (or typed the same way) into its unquoted
/// schema and name. A bare part is taken as written, without folding to lower case; a
/// quoted part may hold anything but control characters, its quotes doubled. Exactly two
/// parts, neither empty.
pub fn parse_display_name(text: &str) -> Result<(String, String), String> {
    let mut parts: Vec<String> = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(NAME_FORM.into()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' {
                    return Err(NAME_FORM.into());
                }
                part.push(c);
                chars.next();
            }
        }
        if part.is_empty() || part.chars().any(char::is_control) {
            return Err(NAME_FORM.into());
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some('.') => continue,
            Some(_) => return Err(NAME_FORM.into()),
        }
    }
    match <[String; 2]>::try_from(parts) {
        Ok([schema, name]) => Ok((schema, name)),
        Err(_) => Err(NAME_FORM.into()),
    }
}

/// Refuses a schema or relation name no relation can have: empty, longer than 200
/// characters, or with control characters (PostgreSQL refuses a NUL outright); the
/// message names `field`.
pub fn check_part(field: &str, part: &str) -> Result<(), String> {
    if part.is_empty() || part.chars().count() > 200 || part.chars().any(char::is_control) {
        return Err(format!(
            "{field} {part:?}: expected 1 to 200 characters, without control characters"
        ));
    }
    Ok(())
}

/// A name in the one written form: `"s"."a"` and `s.a` both become `s.a`.
pub fn normalize_display_name(text: &str) -> Result<String, String> {
    parse_display_name(text).map(|(schema, name)| display_name(&schema, &name))
}

/// [`parse_display_name`]'s grammar as a regular expression, for OpenAPI documents.
pub const NAME_PATTERN: &str = r#"^(?:"(?:[^"\x00-\x1f\x7f-\x9f]|"")+"|[^."\x00-\x1f\x7f-\x9f]+)\.(?:"(?:[^"\x00-\x1f\x7f-\x9f]|"")+"|[^."\x00-\x1f\x7f-\x9f]+)$"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_quote_only_what_needs_it_and_read_back() {
        let cases = [
            (
                "factory_telemetry",
                "metric_hist",
                "factory_telemetry.metric_hist",
            ),
            ("zz_probe.a", "b", "\"zz_probe.a\".b"),
            ("zz_probe", "a.b", "zz_probe.\"a.b\""),
            (
                "My Schema",
                "Odd \"Name\" Here",
                "\"My Schema\".\"Odd \"\"Name\"\" Here\"",
            ),
            ("public", "1st", "public.\"1st\""),
        ];
        for (schema, name, shown) in cases {
            assert_eq!(display_name(schema, name), shown);
            assert_eq!(
                parse_display_name(shown).unwrap(),
                (schema.to_string(), name.to_string())
            );
        }
        // The two dotted names that used to look alike no longer do.
        assert_ne!(
            display_name("zz_probe.a", "b"),
            display_name("zz_probe", "a.b")
        );
        for bad in [
            "metric_hist",
            "a.b.c",
            ".x",
            "x.",
            "\"a.b",
            "a.\"b\"c",
            "a.b\u{0}",
            "",
        ] {
            assert!(parse_display_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_display_name(" Public.MyTable ").unwrap(),
            ("Public".to_string(), "MyTable".to_string())
        );
    }

    #[test]
    fn quotes_like_postgres() {
        assert_eq!(quote_ident("metric_hist"), "\"metric_hist\"");
        assert_eq!(quote_ident("Odd \"Name\""), "\"Odd \"\"Name\"\"\"");
        assert_eq!(
            QualifiedName::new("my schema", "t\"x").to_string(),
            "\"my schema\".\"t\"\"x\""
        );
    }

    #[test]
    fn quotes_literals_like_postgres() {
        assert_eq!(quote_literal("equipment_id"), "'equipment_id'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
    }
}
