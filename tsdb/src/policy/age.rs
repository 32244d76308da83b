//! How old a chunk must be before a policy acts on it, or how wide a chunk is: an
//! interval on hypertables partitioned by time (`7 days`), a whole number in the time
//! column's own unit on integer-time hypertables (`300000`).

use crate::interval::PolicyInterval;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An interval or an integer span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PolicyAge {
    /// For `timestamptz`, `timestamp` and `date` time columns.
    Interval(PolicyInterval),
    /// For integer time columns, in their own unit.
    Integer(i64),
}

/// Which kind of time column a value fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeKind {
    /// Timestamps and dates: intervals.
    Time,
    /// Integers: whole numbers in the column's unit.
    Integer,
}

/// The accepted form, following "expected".
pub const AGE_FORM: &str = "an interval such as \"90 days\" or \"12 hours\" (a positive whole number and one of second, minute, hour, day, week, month, year; at most 100 years), or a positive whole number in the time column's own unit for an integer-time hypertable";

impl PolicyAge {
    /// Which kind of time column this fits.
    pub fn kind(self) -> TimeKind {
        match self {
            PolicyAge::Interval(_) => TimeKind::Time,
            PolicyAge::Integer(_) => TimeKind::Integer,
        }
    }

    /// A number to compare two values of the same kind: seconds (months as 30 days, as
    /// PostgreSQL compares intervals) or the integer itself.
    pub fn magnitude(self) -> i64 {
        match self {
            PolicyAge::Interval(interval) => {
                i64::try_from(interval.approx_seconds()).unwrap_or(i64::MAX)
            }
            PolicyAge::Integer(n) => n,
        }
    }
}

impl FromStr for PolicyAge {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
            return match text.parse::<i64>() {
                Ok(n) if n > 0 => Ok(PolicyAge::Integer(n)),
                _ => Err(AGE_FORM.into()),
            };
        }
        text.parse::<PolicyInterval>()
            .map(PolicyAge::Interval)
            .map_err(|_| AGE_FORM.into())
    }
}

impl TryFrom<String> for PolicyAge {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        value.parse()
    }
}

impl From<PolicyAge> for String {
    fn from(value: PolicyAge) -> Self {
        value.to_string()
    }
}

impl fmt::Display for PolicyAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyAge::Interval(interval) => interval.fmt(f),
            PolicyAge::Integer(n) => n.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_integers() {
        assert_eq!("7 days".parse::<PolicyAge>().unwrap().to_string(), "7 days");
        assert_eq!(
            "300000".parse::<PolicyAge>().unwrap(),
            PolicyAge::Integer(300_000)
        );
        assert_eq!("1 week".parse::<PolicyAge>().unwrap().magnitude(), 604_800);
        for bad in ["0", "-5", "7 dayz", "", "1.5"] {
            let refused = bad.parse::<PolicyAge>().unwrap_err();
            assert!(
                refused.starts_with("an interval such as"),
                "{bad}: {refused}"
            );
        }
    }
}
