//! A statement of a plan step, as the admin reads it and as apply runs it: SQL with `$n`
//! placeholders and the values bound to them. Nothing is spliced into the SQL but
//! identifiers and DDL literals, through `crate::ident`; `display` renders the values
//! in place for people.

use crate::ident::quote_literal;
use serde::{Deserialize, Serialize};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    /// Text (names, intervals as text; the SQL casts it).
    Text(String),
    /// A 32-bit integer (job ids).
    Int(i32),
    /// A 64-bit integer (integer-time ages).
    BigInt(i64),
}

/// SQL and its bound values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The SQL, with `$1`, `$2`, … for the values.
    pub sql: String,
    /// The values, in placeholder order.
    pub args: Vec<Arg>,
}

impl Statement {
    /// A statement with its values.
    pub fn new(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Self {
            sql: sql.into(),
            args,
        }
    }

    /// The SQL with each value written in place, for people to read.
    pub fn display(&self) -> String {
        let mut text = self.sql.clone();
        // From the highest number down, so that `$1` never eats the start of `$10`.
        for (index, arg) in self.args.iter().enumerate().rev() {
            let value = match arg {
                Arg::Text(text) => quote_literal(text),
                Arg::Int(n) => n.to_string(),
                Arg::BigInt(n) => n.to_string(),
            };
            text = text.replace(&format!("${}", index + 1), &value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_in_place() {
        let statement = Statement::new(
            "SELECT add_retention_policy($1::regclass, drop_after => $2::interval)",
            vec![
                Arg::Text("\"factory_telemetry\".\"metric_hist\"".into()),
                Arg::Text("90 days".into()),
            ],
        );
        assert_eq!(
            statement.display(),
            "SELECT add_retention_policy('\"factory_telemetry\".\"metric_hist\"'::regclass, drop_after => '90 days'::interval)"
        );
    }
}
