//! Summaries of repeated measurements: min / median / max, and percentiles for load runs.

use serde::{Deserialize, Serialize};

/// The spread of repeated measurements of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The smallest measurement.
    pub min: f64,
    /// The middle measurement (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The largest measurement.
    pub max: f64,
    /// How many measurements were summarised.
    pub count: usize,
}

impl Summary {
    /// Summarises `samples`; `None` when there are none or any is not a finite number
    /// (a figure that cannot be trusted is left out rather than reported as 0).
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Summary {
            min: sorted[0],
            median: percentile_of_sorted(&sorted, 50.0),
            max: sorted[sorted.len() - 1],
            count: sorted.len(),
        })
    }
}

/// The `p`-th percentile (0–100) of ascending `sorted` samples, interpolating linearly
/// between the two nearest ranks (so the 50th of an even count is the mean of the middle
/// two); `NaN` for no samples.
pub fn percentile_of_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let rank = (p.clamp(0.0, 100.0) / 100.0) * (n - 1) as f64;
            let low = rank.floor() as usize;
            let high = rank.ceil() as usize;
            sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_and_even_counts_have_the_usual_median() {
        let odd = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!(
            (odd.min, odd.median, odd.max, odd.count),
            (1.0, 3.0, 5.0, 3)
        );
        let even = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((even.min, even.median, even.max), (1.0, 2.5, 4.0));
        let one = Summary::of(&[7.5]).unwrap();
        assert_eq!((one.min, one.median, one.max), (7.5, 7.5, 7.5));
    }

    #[test]
    fn nothing_or_a_broken_sample_gives_no_summary() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
        assert_eq!(Summary::of(&[f64::INFINITY]), None);
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile_of_sorted(&sorted, 0.0), 1.0);
        assert_eq!(percentile_of_sorted(&sorted, 100.0), 100.0);
        assert!((percentile_of_sorted(&sorted, 95.0) - 95.05).abs() < 1e-9);
        assert!((percentile_of_sorted(&sorted, 50.0) - 50.5).abs() < 1e-9);
        assert!(percentile_of_sorted(&[], 50.0).is_nan());
        assert_eq!(percentile_of_sorted(&[2.0], 99.0), 2.0);
    }
}
