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

#[cfg(test)]
mod tests {
    use super::*;

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
