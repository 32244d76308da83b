//! Policy durations ("7 days", "12 hours") as users write them in configuration and forms.
//!
//! Parsed strictly so that a typo is refused with the accepted form instead of reaching
//! PostgreSQL; rendered back in a canonical form that PostgreSQL's `interval` accepts.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A unit of a policy duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalUnit {
    /// Seconds.
    Second,
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days.
    Day,
    /// Weeks (7 days).
    Week,
    /// Months (counted as 30 days when durations are compared, as PostgreSQL does).
    Month,
    /// Years (12 months).
    Year,
}

impl IntervalUnit {
    fn seconds(self) -> u64 {
        match self {
            IntervalUnit::Second => 1,
            IntervalUnit::Minute => 60,
            IntervalUnit::Hour => 3_600,
            IntervalUnit::Day => 86_400,
            IntervalUnit::Week => 7 * 86_400,
            IntervalUnit::Month => 30 * 86_400,
            IntervalUnit::Year => 360 * 86_400,
        }
    }

    fn name(self) -> &'static str {
        match self {
            IntervalUnit::Second => "second",
            IntervalUnit::Minute => "minute",
            IntervalUnit::Hour => "hour",
            IntervalUnit::Day => "day",
            IntervalUnit::Week => "week",
            IntervalUnit::Month => "month",
            IntervalUnit::Year => "year",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        let unit = match word {
            "s" | "sec" | "secs" | "second" | "seconds" => IntervalUnit::Second,
            "m" | "min" | "mins" | "minute" | "minutes" => IntervalUnit::Minute,
            "h" | "hr" | "hrs" | "hour" | "hours" => IntervalUnit::Hour,
            "d" | "day" | "days" => IntervalUnit::Day,
            "w" | "week" | "weeks" => IntervalUnit::Week,
            "mon" | "mons" | "month" | "months" => IntervalUnit::Month,
            "y" | "year" | "years" => IntervalUnit::Year,
            _ => return None,
        };
        Some(unit)
    }
}

/// A positive whole number of one unit, such as `90 days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicyInterval {
    amount: u32,
    unit: IntervalUnit,
}

/// Why a duration was refused; the message states the accepted form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an interval such as \"90 days\" or \"12 hours\" (a positive whole number and one of second, minute, hour, day, week, month, year)")]
pub struct IntervalError;

impl PolicyInterval {
    /// Builds an interval; `None` when `amount` is zero.
    pub fn new(amount: u32, unit: IntervalUnit) -> Option<Self> {
        (amount > 0).then_some(Self { amount, unit })
    }

    /// The number of units.
    pub fn amount(self) -> u32 {
        self.amount
    }

    /// The unit.
    pub fn unit(self) -> IntervalUnit {
        self.unit
    }

    /// Length in seconds, months counted as 30 days, for comparing two policies.
    pub fn approx_seconds(self) -> u64 {
        u64::from(self.amount) * self.unit.seconds()
    }
}

impl FromStr for PolicyInterval {
    type Err = IntervalError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.trim().to_ascii_lowercase();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or(IntervalError)?;
        let (digits, rest) = text.split_at(split);
        let amount: u32 = digits.parse().map_err(|_| IntervalError)?;
        let unit = IntervalUnit::parse(rest.trim()).ok_or(IntervalError)?;
        PolicyInterval::new(amount, unit).ok_or(IntervalError)
    }
}

impl TryFrom<String> for PolicyInterval {
    type Error = IntervalError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<PolicyInterval> for String {
    fn from(value: PolicyInterval) -> Self {
        value.to_string()
    }
}

impl fmt::Display for PolicyInterval {
    /// Canonical form, valid as a PostgreSQL `interval` literal: `90 days`, `1 hour`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.amount == 1 { "" } else { "s" };
        write!(f, "{} {}{}", self.amount, self.unit.name(), plural)
    }
}

/// The length in seconds of an interval as PostgreSQL prints it (`IntervalStyle =
/// postgres`: `1 year 2 mons 3 days 04:05:06.5`, `-12:00:00`), months counted as 30 days
/// and years as 360, which is how PostgreSQL compares intervals and how
/// [`PolicyInterval::approx_seconds`] counts. `None` for text in another form or beyond
/// what 64 bits of seconds hold.
pub fn postgres_interval_seconds(text: &str) -> Option<i64> {
    let mut seconds: i64 = 0;
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word.contains(':') {
            let (sign, clock) = match word.strip_prefix('-') {
                Some(rest) => (-1, rest),
                None => (1, word.trim_start_matches('+')),
            };
            let mut parts = clock.split(':');
            let hours: i64 = parts.next()?.parse().ok()?;
            let minutes: i64 = parts.next()?.parse().ok()?;
            let secs: f64 = parts.next().unwrap_or("0").parse().ok()?;
            let clock_seconds = hours
                .checked_mul(3600)?
                .checked_add(minutes.checked_mul(60)?)?
                .checked_add(secs.trunc() as i64)?;
            seconds = seconds.checked_add(sign * clock_seconds)?;
            continue;
        }
        let amount: i64 = word.parse().ok()?;
        let unit = words.next()?;
        let unit_seconds = match unit.trim_end_matches('s') {
            "year" => 360 * 86_400,
            "mon" | "month" => 30 * 86_400,
            "week" => 7 * 86_400,
            "day" => 86_400,
            "hour" => 3_600,
            "min" | "minute" => 60,
            "sec" | "second" => 1,
            _ => return None,
        };
        seconds = seconds.checked_add(amount.checked_mul(unit_seconds)?)?;
    }
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_intervals_as_postgresql_prints_them() {
        assert_eq!(postgres_interval_seconds("7 days"), Some(604_800));
        assert_eq!(postgres_interval_seconds("12:00:00"), Some(43_200));
        assert_eq!(postgres_interval_seconds("1 mon"), Some(2_592_000));
        assert_eq!(
            postgres_interval_seconds("1 year 2 mons 3 days 04:05:06.5"),
            Some(360 * 86_400 + 60 * 86_400 + 3 * 86_400 + 4 * 3600 + 5 * 60 + 6)
        );
        assert_eq!(postgres_interval_seconds("-01:00:00"), Some(-3600));
        // Found by the property tests: huge amounts overflowed instead of being refused.
        assert_eq!(postgres_interval_seconds("9999999999999999 years"), None);
        assert_eq!(postgres_interval_seconds("9999999999999999:00:00"), None);
        assert_eq!(postgres_interval_seconds("P1D"), None);
        let quarter: PolicyInterval = "3 months".parse().unwrap();
        assert_eq!(
            postgres_interval_seconds("3 mons"),
            Some(quarter.approx_seconds() as i64)
        );
    }

    #[test]
    fn accepts_the_seed_defaults() {
        for (text, canonical) in [
            ("7 days", "7 days"),
            ("90 days", "90 days"),
            ("1 day", "1 day"),
            ("12 hours", "12 hours"),
            ("  2 Weeks ", "2 weeks"),
            ("30min", "30 minutes"),
            ("1 year", "1 year"),
        ] {
            let parsed: PolicyInterval = text.parse().unwrap();
            assert_eq!(parsed.to_string(), canonical, "{text}");
        }
    }

    #[test]
    fn refuses_typos_zero_and_fractions() {
        for text in [
            "90 dayz", "", "days", "0 days", "-1 day", "1.5 days", "7", "7 days 3",
        ] {
            assert!(text.parse::<PolicyInterval>().is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn compares_by_length() {
        let week: PolicyInterval = "7 days".parse().unwrap();
        let quarter: PolicyInterval = "3 months".parse().unwrap();
        assert!(week.approx_seconds() < quarter.approx_seconds());
        assert_eq!(week.approx_seconds(), 604_800);
    }

    #[test]
    fn serde_round_trips_as_text() {
        let week: PolicyInterval = "1 week".parse().unwrap();
        let json = serde_json::to_string(&week).unwrap();
        assert_eq!(json, "\"1 week\"");
        assert_eq!(serde_json::from_str::<PolicyInterval>(&json).unwrap(), week);
        assert!(serde_json::from_str::<PolicyInterval>("\"1 wek\"").is_err());
    }
}
