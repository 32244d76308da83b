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
#[error("expected an interval such as \"90 days\" or \"12 hours\" (a positive whole number and one of second, minute, hour, day, week, month, year; at most 100 years)")]
pub struct IntervalError;

/// The longest interval accepted, about 100 calendar years: beyond it TimescaleDB's
/// conversions to microseconds overflow or PostgreSQL's `interval` does (`2147483648
/// days`), and a policy saved with such a value would fail every apply.
pub const MAX_SECONDS: u64 = 36_525 * 86_400;

impl PolicyInterval {
    /// Builds an interval; `None` when `amount` is zero or it is longer than
    /// [`MAX_SECONDS`].
    pub fn new(amount: u32, unit: IntervalUnit) -> Option<Self> {
        // Measured in calendar years (365.25 days) here, so that "100 years", "1200
        // months" and "36525 days" are all just within.
        let calendar = match unit {
            IntervalUnit::Year => u64::from(amount) * 31_557_600,
            IntervalUnit::Month => u64::from(amount) * 2_629_800,
            _ => u64::from(amount) * unit.seconds(),
        };
        (amount > 0 && calendar <= MAX_SECONDS).then_some(Self { amount, unit })
    }

    /// The interval PostgreSQL printed (`7 days`, `12:00:00`, `1 mon`, `1 day 02:00:00`)
    /// as one unit, exactly: `None` when it cannot be one (months mixed with days or
    /// hours, fractions of a second, zero or negative), so a restore never silently
    /// rounds a value.
    pub fn from_postgres(text: &str) -> Option<Self> {
        let (months, seconds) = postgres_interval_parts(text)?;
        let (amount, unit) = match (months, seconds) {
            (m, 0) if m > 0 && m % 12 == 0 => (m / 12, IntervalUnit::Year),
            (m, 0) if m > 0 => (m, IntervalUnit::Month),
            (0, s) if s > 0 => {
                let unit = [
                    IntervalUnit::Day,
                    IntervalUnit::Hour,
                    IntervalUnit::Minute,
                    IntervalUnit::Second,
                ]
                .into_iter()
                .find(|unit| s % unit.seconds() as i64 == 0)?;
                (s / unit.seconds() as i64, unit)
            }
            _ => return None,
        };
        Self::new(u32::try_from(amount).ok()?, unit)
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

/// An interval as PostgreSQL prints it, split into whole months and whole seconds (days
/// as 86,400 s); `None` for other forms, fractions of a second, or signs that differ.
fn postgres_interval_parts(text: &str) -> Option<(i64, i64)> {
    let (mut months, mut seconds) = (0i64, 0i64);
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        if word.contains(':') {
            let mut parts = word.split(':');
            let hours: i64 = parts.next()?.parse().ok()?;
            let minutes: i64 = parts.next()?.parse().ok()?;
            let secs: i64 = parts.next().unwrap_or("0").parse().ok()?;
            if hours < 0 || parts.next().is_some() {
                return None;
            }
            seconds = seconds.checked_add(hours.checked_mul(3600)? + minutes * 60 + secs)?;
            continue;
        }
        let amount: i64 = word.parse().ok()?;
        if amount < 0 {
            return None;
        }
        match words.next()?.trim_end_matches('s') {
            "year" => months = months.checked_add(amount.checked_mul(12)?)?,
            "mon" | "month" => months = months.checked_add(amount)?,
            "week" => seconds = seconds.checked_add(amount.checked_mul(7 * 86_400)?)?,
            "day" => seconds = seconds.checked_add(amount.checked_mul(86_400)?)?,
            "hour" => seconds = seconds.checked_add(amount.checked_mul(3_600)?)?,
            "min" | "minute" => seconds = seconds.checked_add(amount.checked_mul(60)?)?,
            "sec" | "second" => seconds = seconds.checked_add(amount)?,
            _ => return None,
        }
    }
    Some((months, seconds))
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
    fn refuses_what_postgresql_or_timescaledb_cannot_hold() {
        for text in [
            "2147483648 days",
            "99999999 years",
            "101 years",
            "4294967295 seconds",
        ] {
            let refused = text.parse::<PolicyInterval>().unwrap_err().to_string();
            assert!(refused.ends_with("at most 100 years)"), "{text}: {refused}");
        }
        assert!("100 years".parse::<PolicyInterval>().is_ok());
        assert!("1200 months".parse::<PolicyInterval>().is_ok());
        assert!("36525 days".parse::<PolicyInterval>().is_ok());
        assert!("36526 days".parse::<PolicyInterval>().is_err());
    }

    #[test]
    fn restores_what_postgresql_printed_exactly_or_not_at_all() {
        for (printed, canonical) in [
            ("7 days", "7 days"),
            ("14 days", "14 days"),
            ("90 days", "90 days"),
            ("12:00:00", "12 hours"),
            ("00:30:00", "30 minutes"),
            ("1 day 02:00:00", "26 hours"),
            ("1 mon", "1 month"),
            ("1 year", "1 year"),
            ("2 years 6 mons", "30 months"),
            ("00:00:45", "45 seconds"),
        ] {
            let restored = PolicyInterval::from_postgres(printed).unwrap();
            assert_eq!(restored.to_string(), canonical, "{printed}");
            assert_eq!(
                Some(restored.approx_seconds() as i64),
                postgres_interval_seconds(printed),
                "{printed}"
            );
        }
        for inexact in [
            "1 mon 2 days",
            "00:00:00.5",
            "-1 days",
            "00:00:00",
            "P1D",
            "1 mon 01:00:00",
        ] {
            assert_eq!(PolicyInterval::from_postgres(inexact), None, "{inexact}");
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
