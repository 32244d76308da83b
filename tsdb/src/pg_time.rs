//! Timestamps as TimescaleDB's catalog stores them, where `-infinity` and `infinity` are
//! ordinary values: a job's `next_start` reads `-infinity` while the scheduler runs it,
//! `last_finish` before its first run, open-ended dimension slices are unbounded. sqlx's
//! chrono decoding adds the raw microseconds to its epoch and panics on those values
//! (`NaiveDateTime + TimeDelta overflowed`), which once killed the monitoring loop for
//! good; every catalog timestamp is therefore read through [`PgTimestamp`].

use chrono::{DateTime, Duration, TimeZone, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Postgres, Type};

/// A `timestamptz` (or `timestamp`, read as UTC) that may be infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PgTimestamp {
    /// `-infinity`: before everything.
    NegativeInfinity,
    /// A finite moment.
    At(DateTime<Utc>),
    /// `infinity`: after everything.
    Infinity,
}

impl PgTimestamp {
    /// The moment, when finite.
    pub fn finite(self) -> Option<DateTime<Utc>> {
        match self {
            PgTimestamp::At(at) => Some(at),
            PgTimestamp::NegativeInfinity | PgTimestamp::Infinity => None,
        }
    }

    /// A nullable column's value as an optional finite moment.
    pub fn finite_or_none(value: Option<Self>) -> Option<DateTime<Utc>> {
        value.and_then(Self::finite)
    }

    /// From PostgreSQL's binary form: microseconds since 2000-01-01 00:00 UTC, with the
    /// extreme values standing for the infinities.
    fn from_micros(micros: i64) -> Result<Self, BoxDynError> {
        match micros {
            i64::MIN => Ok(PgTimestamp::NegativeInfinity),
            i64::MAX => Ok(PgTimestamp::Infinity),
            _ => {
                let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
                epoch
                    .and_then(|epoch| epoch.checked_add_signed(Duration::microseconds(micros)))
                    .map(PgTimestamp::At)
                    .ok_or_else(|| {
                        format!("timestamp {micros} µs from 2000 is out of range").into()
                    })
            }
        }
    }
}

impl Type<Postgres> for PgTimestamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
            || <chrono::NaiveDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for PgTimestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes: [u8; 8] = value
                    .as_bytes()?
                    .try_into()
                    .map_err(|_| "a timestamp is 8 bytes in binary form")?;
                Self::from_micros(i64::from_be_bytes(bytes))
            }
            PgValueFormat::Text => match value.as_str()? {
                "infinity" => Ok(PgTimestamp::Infinity),
                "-infinity" => Ok(PgTimestamp::NegativeInfinity),
                _ => <DateTime<Utc> as Decode<Postgres>>::decode(value).map(PgTimestamp::At),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extremes_are_the_infinities_and_the_rest_is_exact() {
        assert_eq!(
            PgTimestamp::from_micros(i64::MIN).unwrap(),
            PgTimestamp::NegativeInfinity
        );
        assert_eq!(
            PgTimestamp::from_micros(i64::MAX).unwrap(),
            PgTimestamp::Infinity
        );
        let day = PgTimestamp::from_micros(86_400_000_000).unwrap();
        assert_eq!(
            day.finite().unwrap().to_rfc3339(),
            "2000-01-02T00:00:00+00:00"
        );
        // Beyond chrono's range (PostgreSQL reaches 294276 AD): an error, never a panic.
        assert!(PgTimestamp::from_micros(i64::MAX - 1).is_err());
        assert_eq!(PgTimestamp::NegativeInfinity.finite(), None);
    }
}
