//! Where a table's bytes go, day by day, when its policies act on what arrives: a straight
//! line fitted to the measured ingest (least squares), and a model of what compression and
//! retention do to each day's data as it ages — raw until compress-after, then shrunk to
//! the table's measured ratio, gone after the retention. A table without policies grows on
//! its raw line; one with retention levels off at ingest × (compress-after + ratio ×
//! (retention − compress-after)).
//!
//! Today's bytes are taken as spread evenly over the ages the table holds (its oldest data
//! is `held_days` old) and age the same way as new data: a compression policy shrinks the
//! young part of what is there now, a retention drops the old part.

use serde::{Deserialize, Serialize};

/// One measurement of a table: days since any fixed origin, and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When, in days (fractions allowed) since a common origin.
    pub day: f64,
    /// How many bytes then (raw-equivalent for the ingest fit).
    pub bytes: f64,
}

/// A least-squares line through the samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fit {
    /// Growth in bytes per day (the slope).
    pub bytes_per_day: f64,
    /// Bytes at day 0 (the intercept).
    pub intercept: f64,
    /// How much of the variation the line explains, 0 to 1 (1 for a perfect line).
    pub r_squared: f64,
    /// Standard error of the slope, bytes per day.
    pub slope_error: f64,
    /// Samples used.
    pub samples: usize,
}

/// Fewer samples than this, or a worse fit, gives a low-confidence forecast.
pub const MIN_SAMPLES: usize = 4;
/// The least r² of a confident fit.
pub const MIN_R_SQUARED: f64 = 0.8;

impl Fit {
    /// Whether the line is good enough to plan with.
    pub fn confident(&self) -> bool {
        self.samples >= MIN_SAMPLES && self.r_squared >= MIN_R_SQUARED
    }
}

/// Fits a line to `samples`; `None` with fewer than two or all at one time.
pub fn fit(samples: &[Sample]) -> Option<Fit> {
    let n = samples.len();
    if n < 2 {
        return None;
    }
    let count = n as f64;
    let mean_day = samples.iter().map(|s| s.day).sum::<f64>() / count;
    let mean_bytes = samples.iter().map(|s| s.bytes).sum::<f64>() / count;
    let sxx: f64 = samples.iter().map(|s| (s.day - mean_day).powi(2)).sum();
    if sxx <= f64::EPSILON {
        return None;
    }
    let sxy: f64 = samples
        .iter()
        .map(|s| (s.day - mean_day) * (s.bytes - mean_bytes))
        .sum();
    let slope = sxy / sxx;
    let intercept = mean_bytes - slope * mean_day;
    let residual: f64 = samples
        .iter()
        .map(|s| (s.bytes - (intercept + slope * s.day)).powi(2))
        .sum();
    let total: f64 = samples.iter().map(|s| (s.bytes - mean_bytes).powi(2)).sum();
    let r_squared = if total <= f64::EPSILON {
        1.0
    } else {
        (1.0 - residual / total).clamp(0.0, 1.0)
    };
    let slope_error = if n > 2 {
        (residual / (count - 2.0) / sxx).sqrt()
    } else {
        0.0
    };
    Some(Fit {
        bytes_per_day: slope,
        intercept,
        r_squared,
        slope_error,
        samples: n,
    })
}

/// What the live policies do to data as it ages.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Data older than this many days is compressed; none without a compression policy.
    pub compress_after_days: Option<f64>,
    /// Bytes after compression per byte before (0.25 for a 4× ratio), as measured.
    pub compressed_fraction: f64,
    /// Data older than this many days is dropped; none keeps it forever.
    pub retention_days: Option<f64>,
}

impl Lifecycle {
    /// The share of a byte ingested `age` days ago that is still on disk.
    pub fn kept(&self, age: f64) -> f64 {
        if self.retention_days.is_some_and(|r| age >= r) {
            0.0
        } else if self.compress_after_days.is_some_and(|c| age >= c) {
            self.compressed_fraction
        } else {
            1.0
        }
    }

    /// ∫₀ˣ kept(a) da: the bytes on disk from one byte a day ingested over `x` days.
    fn held(&self, x: f64) -> f64 {
        let x = x.max(0.0);
        let drop_at = self.retention_days.unwrap_or(f64::INFINITY);
        let compress_at = self
            .compress_after_days
            .unwrap_or(f64::INFINITY)
            .min(drop_at);
        let raw = x.min(compress_at);
        let compressed = (x.min(drop_at) - compress_at).max(0.0) * self.compressed_fraction;
        raw + compressed
    }
}

/// One day of the forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Point {
    /// Days from now.
    pub day: u32,
    /// Expected bytes.
    pub bytes: f64,
    /// Lower edge of the band (the slope minus two standard errors).
    pub low: f64,
    /// Upper edge of the band (the slope plus two standard errors).
    pub high: f64,
}

/// The forecast of one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forecast {
    /// The fit of the ingest.
    pub fit: Fit,
    /// Day 0 (now) to the horizon.
    pub points: Vec<Point>,
    /// Whether the fit is good enough to plan with; say "low confidence" otherwise.
    pub confident: bool,
}

/// What today's data holds: its bytes and the age of its oldest data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Holding {
    /// Bytes on disk now.
    pub bytes: f64,
    /// Days of data the table holds (its oldest chunk's age).
    pub held_days: f64,
}

/// Forecasts `horizon_days` ahead from the ingest measured in `ingest` (raw-equivalent
/// bytes over time), what the table holds now, and its `lifecycle`.
pub fn forecast(
    ingest: &[Sample],
    now: Holding,
    lifecycle: Lifecycle,
    horizon_days: u32,
) -> Option<Forecast> {
    forecast_changed(ingest, now, lifecycle, lifecycle, horizon_days)
}

/// The same, when the policies change today from `current` (which shaped what the table
/// holds now) to `lifecycle` (which ages everything from now on).
pub fn forecast_changed(
    ingest: &[Sample],
    now: Holding,
    current: Lifecycle,
    lifecycle: Lifecycle,
    horizon_days: u32,
) -> Option<Forecast> {
    let fit = fit(ingest)?;
    let rate = fit.bytes_per_day.max(0.0);
    let spread = 2.0 * fit.slope_error;
    // Today's bytes, spread evenly over their ages, at the density that gives `bytes` now;
    // when their ages are unknown they stay as they are.
    let held_now = current.held(now.held_days);
    let density = if held_now > 0.0 {
        now.bytes / held_now
    } else {
        0.0
    };
    let at = |day: f64, rate: f64| {
        let existing = if held_now > 0.0 {
            density * (lifecycle.held(day + now.held_days) - lifecycle.held(day))
        } else {
            now.bytes
        };
        let ingested = rate * lifecycle.held(day);
        existing + ingested
    };
    let points = (0..=horizon_days)
        .map(|day| {
            let t = f64::from(day);
            Point {
                day,
                bytes: at(t, rate),
                low: at(t, (rate - spread).max(0.0)),
                high: at(t, rate + spread),
            }
        })
        .collect();
    Some(Forecast {
        confident: fit.confident(),
        fit,
        points,
    })
}

/// The first day the forecast reaches `budget` bytes, if within its horizon.
pub fn day_reaching(forecast: &Forecast, budget: f64) -> Option<u32> {
    forecast
        .points
        .iter()
        .find(|p| p.bytes >= budget)
        .map(|p| p.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A month of daily samples growing by `rate` a day from `start`, with `noise`.
    fn series(start: f64, rate: f64, noise: impl Fn(usize) -> f64) -> Vec<Sample> {
        (0..30)
            .map(|i| Sample {
                day: i as f64,
                bytes: start + rate * i as f64 + noise(i),
            })
            .collect()
    }

    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

    #[test]
    fn a_linear_series_without_policies_is_forecast_within_one_percent() {
        let samples = series(10.0 * GIB, 0.5 * GIB, |_| 0.0);
        let now = Holding {
            bytes: 10.0 * GIB + 29.0 * 0.5 * GIB,
            held_days: 29.0,
        };
        let forecast = forecast(&samples, now, Lifecycle::default(), 90).unwrap();
        assert!(forecast.confident);
        let day90 = forecast.points[90].bytes;
        let expected = now.bytes + 90.0 * 0.5 * GIB;
        assert!(
            (day90 - expected).abs() / expected < 0.01,
            "{day90} vs {expected}"
        );
        assert_eq!(forecast.points.len(), 91);
    }

    #[test]
    fn bytes_of_unknown_age_stay_as_they_are() {
        let samples = series(0.0, GIB, |_| 0.0);
        let now = Holding {
            bytes: 5.0 * GIB,
            held_days: 0.0,
        };
        let points = forecast(&samples, now, Lifecycle::default(), 10)
            .unwrap()
            .points;
        assert!((points[0].bytes - 5.0 * GIB).abs() < 1.0);
        assert!((points[10].bytes - 15.0 * GIB).abs() < 1.0);
    }

    #[test]
    fn compression_bends_the_line_where_compress_after_is_reached() {
        let rate = GIB;
        let samples = series(0.0, rate, |_| 0.0);
        // A new table: nothing held yet, compress after 7 days at 4×.
        let now = Holding {
            bytes: 0.0,
            held_days: 0.0,
        };
        let lifecycle = Lifecycle {
            compress_after_days: Some(7.0),
            compressed_fraction: 0.25,
            retention_days: None,
        };
        let points = forecast(&samples, now, lifecycle, 60).unwrap().points;
        let growth = |from: usize| points[from + 1].bytes - points[from].bytes;
        assert!(
            (growth(3) - rate).abs() < 1.0,
            "raw growth before day 7: {}",
            growth(3)
        );
        assert!(
            (growth(20) - 0.25 * rate).abs() < 1.0,
            "compressed growth after: {}",
            growth(20)
        );
        assert!((points[7].bytes - 7.0 * rate).abs() < 1.0);
    }

    #[test]
    fn retention_caps_the_table() {
        let rate = GIB;
        let samples = series(0.0, rate, |_| 0.0);
        let lifecycle = Lifecycle {
            compress_after_days: Some(7.0),
            compressed_fraction: 0.25,
            retention_days: Some(30.0),
        };
        let now = Holding {
            bytes: 7.0 * rate + 0.25 * rate * 13.0,
            held_days: 20.0,
        };
        let points = forecast(&samples, now, lifecycle, 120).unwrap().points;
        let cap = rate * (7.0 + 0.25 * 23.0);
        for day in [40, 60, 120] {
            assert!(
                (points[day].bytes - cap).abs() / cap < 1e-9,
                "day {day}: {}",
                points[day].bytes
            );
        }
        assert!(points.iter().all(|p| p.bytes <= cap * (1.0 + 1e-9)));
        // Without retention the same table keeps growing.
        let forever = Lifecycle {
            retention_days: None,
            ..lifecycle
        };
        let grows = forecast(&samples, now, forever, 120).unwrap().points;
        assert!(grows[120].bytes > cap * 2.0);
    }

    #[test]
    fn retention_drops_the_old_part_of_what_is_there_now() {
        // 100 days held, no new data: a 30-day retention leaves 30 % on the first day,
        // and nothing once the youngest data is 30 days old.
        let flat = [
            Sample {
                day: 0.0,
                bytes: 0.0,
            },
            Sample {
                day: 1.0,
                bytes: 0.0,
            },
        ];
        let now = Holding {
            bytes: 100.0,
            held_days: 100.0,
        };
        let lifecycle = Lifecycle {
            retention_days: Some(30.0),
            compressed_fraction: 1.0,
            ..Lifecycle::default()
        };
        // The table holds 100 days although the retention keeps 30: held() of the present
        // counts only what the policy keeps, so the density matches today's bytes.
        let points = forecast(&flat, now, lifecycle, 40).unwrap().points;
        assert!((points[0].bytes - 100.0).abs() < 1e-9);
        assert!(points[10].bytes < points[0].bytes);
        assert_eq!(points[30].bytes, 0.0);
    }

    #[test]
    fn a_noisy_series_is_low_confidence_and_has_a_band() {
        let samples = series(GIB, 0.01 * GIB, |i| {
            if i % 2 == 0 {
                0.5 * GIB
            } else {
                -0.5 * GIB
            }
        });
        let now = Holding {
            bytes: GIB,
            held_days: 30.0,
        };
        let forecast = forecast(&samples, now, Lifecycle::default(), 30).unwrap();
        assert!(!forecast.confident, "r² {}", forecast.fit.r_squared);
        let last = forecast.points[30];
        assert!(last.low < last.bytes && last.bytes < last.high, "{last:?}");
        assert!(fit(&samples[..1]).is_none());
        let same_time = [
            Sample {
                day: 1.0,
                bytes: 1.0,
            },
            Sample {
                day: 1.0,
                bytes: 2.0,
            },
        ];
        assert!(fit(&same_time).is_none());
    }

    #[test]
    fn what_is_held_is_the_sum_of_what_each_day_keeps() {
        let lifecycle = Lifecycle {
            compress_after_days: Some(7.0),
            compressed_fraction: 0.3,
            retention_days: Some(30.0),
        };
        for x in [0.0, 3.5, 7.0, 12.25, 30.0, 45.0] {
            let steps = 100_000;
            let width = x / f64::from(steps);
            let summed: f64 = (0..steps)
                .map(|i| lifecycle.kept((f64::from(i) + 0.5) * width) * width)
                .sum();
            assert!(
                (lifecycle.held(x) - summed).abs() < 1e-3,
                "at {x}: {} vs {summed}",
                lifecycle.held(x)
            );
        }
    }

    #[test]
    fn the_budget_day_is_the_first_that_reaches_it() {
        let samples = series(0.0, GIB, |_| 0.0);
        let now = Holding {
            bytes: 10.0 * GIB,
            held_days: 10.0,
        };
        let forecast = forecast(&samples, now, Lifecycle::default(), 90).unwrap();
        assert_eq!(day_reaching(&forecast, 50.0 * GIB), Some(40));
        assert_eq!(day_reaching(&forecast, 500.0 * GIB), None);
    }
}
