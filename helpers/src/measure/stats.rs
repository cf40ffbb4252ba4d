//! Summary statistics of a list of samples.

use crate::error::{HprError, Result};

/// Summary of a list of samples (times in seconds, or any other measure).
///
/// Quantiles interpolate linearly between order statistics, as NumPy's default does, so the
/// numbers agree with `np.percentile` on the same samples.
///
/// ```
/// let s = hpr::Summary::new(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
/// assert_eq!(s.median, 3.0);
/// assert_eq!(s.outliers, 1); // 100 lies far outside the quartiles
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divides by n - 1; zero for a single sample).
    pub std_dev: f64,
    /// Smallest sample.
    pub min: f64,
    /// First quartile (25th percentile).
    pub q1: f64,
    /// Median (50th percentile).
    pub median: f64,
    /// Third quartile (75th percentile).
    pub q3: f64,
    /// Largest sample.
    pub max: f64,
    /// Samples outside Tukey's fences, `[q1 - 1.5 IQR, q3 + 1.5 IQR]`.
    pub outliers: usize,
}

impl Summary {
    /// Summarises `samples`; fails on an empty list or a NaN or infinite sample.
    pub fn new(samples: &[f64]) -> Result<Summary> {
        let sorted = sorted_finite(samples)?;
        let count = sorted.len();
        let mean = sorted.iter().sum::<f64>() / count as f64;
        let std_dev = if count > 1 {
            let squares: f64 = sorted.iter().map(|x| (x - mean) * (x - mean)).sum();
            (squares / (count - 1) as f64).sqrt()
        } else {
            0.0
        };
        let q1 = quantile_sorted(&sorted, 0.25);
        let q3 = quantile_sorted(&sorted, 0.75);
        let fence = 1.5 * (q3 - q1);
        let outliers = sorted
            .iter()
            .filter(|&&x| x < q1 - fence || x > q3 + fence)
            .count();
        Ok(Summary {
            count,
            mean,
            std_dev,
            min: sorted[0],
            q1,
            median: quantile_sorted(&sorted, 0.5),
            q3,
            max: sorted[count - 1],
            outliers,
        })
    }

    /// Relative spread, `std_dev / mean` (zero when the mean is zero).
    pub fn relative_std_dev(&self) -> f64 {
        if self.mean == 0.0 {
            0.0
        } else {
            self.std_dev / self.mean
        }
    }
}

/// The `p`th percentile (`p` in `[0, 100]`) of `samples`, interpolated linearly as NumPy's
/// `np.percentile` does by default, e.g. the p50 and p99 of request latencies.
///
/// ```
/// let latencies = [0.10, 0.12, 0.11, 0.50, 0.13];
/// assert_eq!(hpr::percentile(&latencies, 50.0)?, 0.12);
/// assert!((hpr::percentile(&latencies, 99.0)? - 0.4852).abs() < 1e-12);
/// # Ok::<(), hpr::HprError>(())
/// ```
///
/// # Errors
/// On an empty list, a NaN or infinite sample, or `p` outside `[0, 100]`.
pub fn percentile(samples: &[f64], p: f64) -> Result<f64> {
    if !(0.0..=100.0).contains(&p) {
        return Err(HprError::invalid(
            "p",
            format!("{p} is not a percentile in [0, 100]"),
        ));
    }
    Ok(quantile_sorted(&sorted_finite(samples)?, p / 100.0))
}

/// `samples` sorted, or an error for an empty list or a NaN or infinite sample.
fn sorted_finite(samples: &[f64]) -> Result<Vec<f64>> {
    if samples.is_empty() {
        return Err(HprError::Empty { what: "samples" });
    }
    if let Some(&bad) = samples.iter().find(|x| !x.is_finite()) {
        return Err(HprError::NotFinite {
            what: "samples",
            value: bad,
        });
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Ok(sorted)
}

/// Quantile `q` in `[0, 1]` of already sorted, non-empty samples, by linear interpolation.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    sorted[below] * (1.0 - weight) + sorted[above] * weight
}

/// Median of non-empty samples in any order.
pub(crate) fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_percentiles() {
        // np.percentile([3, 1, 4, 1, 5, 9, 2, 6], [25, 50, 75]) == [1.75, 3.5, 5.25]
        let s = Summary::new(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (1.75, 3.5, 5.25));
        assert_eq!((s.min, s.max, s.count), (1.0, 9.0, 8));
        assert!((s.mean - 3.875).abs() < 1e-12);
        // np.std(x, ddof=1)
        assert!((s.std_dev - 2.748376).abs() < 1e-6);
        assert_eq!(s.outliers, 0);
    }

    #[test]
    fn percentile_matches_numpy_and_refuses_bad_input() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        // np.percentile(x, [0, 25, 90, 100]) == [1, 1.75, 6.9, 9]
        for (p, expected) in [(0.0, 1.0), (25.0, 1.75), (90.0, 6.9), (100.0, 9.0)] {
            assert!(
                (percentile(&x, p).unwrap() - expected).abs() < 1e-12,
                "p{p}"
            );
        }
        assert!(matches!(
            percentile(&x, 100.5),
            Err(HprError::InvalidArgument { .. })
        ));
        assert!(matches!(
            percentile(&x, f64::NAN),
            Err(HprError::InvalidArgument { .. })
        ));
        assert!(matches!(percentile(&[], 50.0), Err(HprError::Empty { .. })));
        assert!(matches!(
            percentile(&[f64::NAN], 50.0),
            Err(HprError::NotFinite { .. })
        ));
    }

    #[test]
    fn single_sample_has_zero_spread() {
        let s = Summary::new(&[2.5]).unwrap();
        assert_eq!((s.std_dev, s.median, s.outliers), (0.0, 2.5, 0));
    }

    #[test]
    fn rejects_empty_and_non_finite() {
        assert_eq!(Summary::new(&[]), Err(HprError::Empty { what: "samples" }));
        assert!(matches!(
            Summary::new(&[1.0, f64::NAN]),
            Err(HprError::NotFinite { .. })
        ));
        assert!(matches!(
            Summary::new(&[f64::INFINITY]),
            Err(HprError::NotFinite { .. })
        ));
    }

    #[test]
    fn median_of_unsorted() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0]), 2.5);
    }
}
