//! The bench's rows: a plant's telemetry (12 machines × 4 metrics sampled every second),
//! generated deterministically on the client so the console and psql send the same rows,
//! and written in each form a path needs: bound arrays, binary COPY, CSV, `VALUES` text.

use crate::ident::quote_literal;
use chrono::{DateTime, Duration, Utc};
use std::fmt::Write as _;

/// Machines in the bench's plant.
pub const MACHINES: u64 = 12;
/// Metrics each machine reports.
pub const METRICS: [&str; 4] = [
    "temperature_c",
    "vibration_mm_s",
    "spindle_speed_rpm",
    "air_pressure_bar",
];
/// Rows the plant writes per second of its time.
pub const ROWS_PER_PLANT_SECOND: u64 = MACHINES * METRICS.len() as u64;

/// Rows in columns, as `UNNEST` binds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Sample time.
    pub ts: Vec<DateTime<Utc>>,
    /// Machine, `EQ-001` …
    pub equipment_id: Vec<String>,
    /// Metric name.
    pub metric_name: Vec<String>,
    /// Reading.
    pub value: Vec<f64>,
    /// OPC-UA quality code (192 good, 64 uncertain).
    pub quality: Vec<i16>,
}

impl Rows {
    /// `count` rows starting at the plant's `first`-th row; row `n` is sampled at
    /// `origin + n / 48` seconds, so consecutive batches continue one another in time.
    pub fn generate(origin: DateTime<Utc>, first: u64, count: u64) -> Rows {
        let mut rows = Rows::with_capacity(count as usize);
        for n in first..first + count {
            let machine = n % MACHINES;
            let metric = ((n / MACHINES) % METRICS.len() as u64) as usize;
            let second = n / ROWS_PER_PLANT_SECOND;
            let base = [65.0, 2.5, 1450.0, 6.0][metric];
            let amplitude = [8.0, 0.8, 40.0, 0.5][metric];
            // A slow wave per machine plus a little deterministic jitter: realistic enough
            // for compression to find what it finds in real telemetry.
            let wave = ((second as f64) / 600.0 + machine as f64).sin();
            let jitter = ((n.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0 - 0.5) * 0.02;
            let value = ((base + amplitude * wave) * (1.0 + jitter) * 1000.0).round() / 1000.0;
            rows.ts.push(origin + Duration::seconds(second as i64));
            rows.equipment_id.push(format!("EQ-{:03}", machine + 1));
            rows.metric_name.push(METRICS[metric].to_string());
            rows.value.push(value);
            rows.quality.push(if n % 199 == 0 { 64 } else { 192 });
        }
        rows
    }

    fn with_capacity(capacity: usize) -> Rows {
        Rows {
            ts: Vec::with_capacity(capacity),
            equipment_id: Vec::with_capacity(capacity),
            metric_name: Vec::with_capacity(capacity),
            value: Vec::with_capacity(capacity),
            quality: Vec::with_capacity(capacity),
        }
    }

    /// Rows `start..end` as a batch of their own.
    pub fn slice(&self, start: usize, end: usize) -> Rows {
        Rows {
            ts: self.ts[start..end].to_vec(),
            equipment_id: self.equipment_id[start..end].to_vec(),
            metric_name: self.metric_name[start..end].to_vec(),
            value: self.value[start..end].to_vec(),
            quality: self.quality[start..end].to_vec(),
        }
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The rows in PostgreSQL's binary `COPY` format (header, tuples, trailer).
    pub fn to_copy_binary(&self) -> Vec<u8> {
        // Binary timestamps count microseconds from 2000-01-01 00:00 UTC.
        const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
        let mut out = Vec::with_capacity(19 + self.len() * 64 + 2);
        out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        out.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        out.extend_from_slice(&0i32.to_be_bytes()); // no header extension
        for i in 0..self.len() {
            out.extend_from_slice(&5i16.to_be_bytes());
            let micros = self.ts[i].timestamp_micros() - POSTGRES_EPOCH_MICROS;
            field(&mut out, &micros.to_be_bytes());
            field(&mut out, self.equipment_id[i].as_bytes());
            field(&mut out, self.metric_name[i].as_bytes());
            field(&mut out, &self.value[i].to_bits().to_be_bytes());
            field(&mut out, &self.quality[i].to_be_bytes());
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    /// The rows as CSV lines, as psql's `\copy … (FORMAT csv)` reads them.
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(self.len() * 64);
        for i in 0..self.len() {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                self.ts[i].format("%Y-%m-%d %H:%M:%S%.6f+00"),
                self.equipment_id[i],
                self.metric_name[i],
                self.value[i],
                self.quality[i]
            );
        }
        out
    }

    /// The rows as the tuples of an `INSERT … VALUES` statement (`(…), (…)`), every text
    /// through the one literal-quoting function.
    pub fn to_values(&self) -> String {
        let mut out = String::with_capacity(self.len() * 80);
        for i in 0..self.len() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(
                out,
                "({}, {}, {}, {}, {})",
                quote_literal(&self.ts[i].format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()),
                quote_literal(&self.equipment_id[i]),
                quote_literal(&self.metric_name[i]),
                self.value[i],
                self.quality[i]
            );
        }
        out
    }
}

/// One binary COPY field: its length, then its bytes.
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn origin() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn batches_continue_one_another() {
        let whole = Rows::generate(origin(), 0, 100);
        let first = Rows::generate(origin(), 0, 40);
        let second = Rows::generate(origin(), 40, 60);
        assert_eq!(&whole.ts[..40], &first.ts[..]);
        assert_eq!(&whole.ts[40..], &second.ts[..]);
        assert_eq!(&whole.value[40..], &second.value[..]);
        // 48 rows per plant second: one of each machine and metric.
        assert_eq!(whole.ts[47], origin());
        assert_eq!(whole.ts[48], origin() + Duration::seconds(1));
        let mut pairs: Vec<_> = (0..48)
            .map(|i| (&whole.equipment_id[i], &whole.metric_name[i]))
            .collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), 48);
    }

    #[test]
    fn binary_copy_has_header_tuples_and_trailer() {
        let rows = Rows::generate(origin(), 0, 2);
        let bytes = rows.to_copy_binary();
        assert!(bytes.starts_with(b"PGCOPY\n\xff\r\n\0"));
        assert!(bytes.ends_with(&[0xff, 0xff]));
        // Tuple: 2 (field count) + 5 × 4 (lengths) + 8 + 6 + 13 + 8 + 2 bytes.
        let first_tuple = 2 + 20 + 8 + "EQ-001".len() + "temperature_c".len() + 8 + 2;
        let second_tuple = 2 + 20 + 8 + "EQ-002".len() + "temperature_c".len() + 8 + 2;
        assert_eq!(bytes.len(), 19 + first_tuple + second_tuple + 2);
        // 2026-01-01 is 9,497 days (26 years, 7 of them leap) after 2000-01-01.
        let micros = i64::from_be_bytes(bytes[25..33].try_into().unwrap());
        assert_eq!(micros, 9_497 * 86_400 * 1_000_000);
    }

    #[test]
    fn text_forms_carry_the_same_rows() {
        let rows = Rows::generate(origin(), 0, 3);
        let csv = rows.to_csv();
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.starts_with("2026-01-01 00:00:00.000000+00,EQ-001,temperature_c,"));
        let values = rows.to_values();
        assert!(values.starts_with("('2026-01-01 00:00:00.000000+00', 'EQ-001', 'temperature_c', "));
        assert_eq!(values.matches("), (").count(), 2);
    }
}
