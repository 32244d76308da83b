//! Identifier quoting for the few statements (DDL) where a value cannot be bound.

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
}
