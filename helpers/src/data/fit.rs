//! Fitting a power law `y ≈ c · x^k` through measured points (the empirical big-O), and a
//! start-up cost plus a cost per unit ([`LinearCost`]).

use crate::error::{HprError, Result};
use std::fmt;

/// Fails naming the first NaN or infinite coordinate of `points`.
fn all_finite(points: &[(f64, f64)]) -> Result<()> {
    match points
        .iter()
        .flat_map(|(x, y)| [x, y])
        .find(|v| !v.is_finite())
    {
        Some(&bad) => Err(HprError::NotFinite {
            what: "points",
            value: bad,
        }),
        None => Ok(()),
    }
}

/// A power law `y ≈ coefficient · x^exponent`, fitted by least squares on log-log axes.
///
/// With two points the line passes through both (the two-point exponent); with more, the
/// exponent's standard error says how well a single power describes them.
///
/// ```
/// use hpr::PowerLaw;
/// let points = [(1_000.0, 2e-6), (10_000.0, 2e-5), (100_000.0, 2e-4)];
/// let law = PowerLaw::fit(&points)?;
/// assert!((law.exponent - 1.0).abs() < 1e-9);
/// assert!((law.predict(1e6) - 2e-3).abs() < 1e-12);
/// assert_eq!(law.big_o(), "≈ O(n^1.00), close to O(n)");
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerLaw {
    /// `k`: about 0 for O(1), 1 for O(n), 2 for O(n²).
    pub exponent: f64,
    /// The exponent's standard error from the fit's residuals (NaN with only two points).
    pub exponent_std_error: f64,
    /// `c`, in the unit of `y`.
    pub coefficient: f64,
}

impl PowerLaw {
    /// Fits `points` given as `(x, y)`; every value must be positive and finite, and at least
    /// two `x` must differ.
    pub fn fit(points: &[(f64, f64)]) -> Result<PowerLaw> {
        if points.is_empty() {
            return Err(HprError::Empty { what: "points" });
        }
        all_finite(points)?;
        if let Some(&(x, y)) = points.iter().find(|(x, y)| *x <= 0.0 || *y <= 0.0) {
            return Err(HprError::invalid(
                "points",
                format!("a power law needs positive values on a log-log scale, but one point is ({x}, {y})"),
            ));
        }
        let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
        let n = logs.len() as f64;
        let mean_x = logs.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = logs.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = logs.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        if sxx == 0.0 {
            return Err(HprError::invalid(
                "points",
                "at least two different x are needed to fit an exponent",
            ));
        }
        let sxy: f64 = logs.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        let slope = sxy / sxx;
        let intercept = mean_y - slope * mean_x;
        let exponent_std_error = if logs.len() > 2 {
            let residuals: f64 = logs
                .iter()
                .map(|p| (p.1 - intercept - slope * p.0).powi(2))
                .sum();
            (residuals / (n - 2.0) / sxx).sqrt()
        } else {
            f64::NAN
        };
        Ok(PowerLaw {
            exponent: slope,
            exponent_std_error,
            coefficient: intercept.exp(),
        })
    }

    /// The fitted `y` at `x`.
    pub fn predict(&self, x: f64) -> f64 {
        self.coefficient * x.powf(self.exponent)
    }

    /// A plain-words reading of the exponent, e.g. `≈ O(n^1.02), close to O(n)`.
    pub fn big_o(&self) -> String {
        let classes = [
            (0.0, "O(1)"),
            (0.5, "O(√n)"),
            (1.0, "O(n)"),
            (2.0, "O(n²)"),
            (3.0, "O(n³)"),
        ];
        let (distance, closest) = classes
            .iter()
            .map(|&(k, name)| ((self.exponent - k).abs(), name))
            .fold(
                (f64::INFINITY, ""),
                |best, c| if c.0 < best.0 { c } else { best },
            );
        if distance < 0.15 {
            format!("≈ O(n^{:.2}), close to {closest}", self.exponent)
        } else {
            format!("≈ O(n^{:.2})", self.exponent)
        }
    }
}

impl fmt::Display for PowerLaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exponent {:.3} ± {:.3}: {}",
            self.exponent,
            self.exponent_std_error,
            self.big_o()
        )
    }
}

/// A cost `y = fixed + per_unit · x`: a start-up cost and a cost per unit, drawn through the
/// smallest and the largest measured point, where each of the two dominates in turn.
///
/// ```
/// use hpr::LinearCost;
/// // 50 µs to start, then 1 ns per byte.
/// let cost = LinearCost::through_ends(&[(1e3, 51e-6), (1e5, 150e-6), (1e7, 10.05e-3)])?;
/// assert!((cost.fixed - 50e-6).abs() < 1e-12 && (cost.per_unit - 1e-9).abs() < 1e-18);
/// assert!((cost.predict(1e6) - 1.05e-3).abs() < 1e-12);
/// assert!(LinearCost::through_ends(&[(1e3, 1e-3), (1e6, 1e-3)]).is_err(), "no cost per unit");
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearCost {
    /// The cost at `x = 0`, in the unit of `y`: the start-up.
    pub fixed: f64,
    /// The cost of one more unit of `x`.
    pub per_unit: f64,
}

impl LinearCost {
    /// The line through the points with the smallest and the largest `x`; fails on non-finite
    /// values, on fewer than two different `x`, and when `y` does not grow from one to the other.
    pub fn through_ends(points: &[(f64, f64)]) -> Result<LinearCost> {
        all_finite(points)?;
        let by_x = |a: &&(f64, f64), b: &&(f64, f64)| a.0.total_cmp(&b.0);
        let (Some(&(x0, y0)), Some(&(x1, y1))) =
            (points.iter().min_by(by_x), points.iter().max_by(by_x))
        else {
            return Err(HprError::Empty { what: "points" });
        };
        if x1 <= x0 {
            return Err(HprError::invalid(
                "points",
                "at least two different x are needed",
            ));
        }
        let per_unit = (y1 - y0) / (x1 - x0);
        if per_unit <= 0.0 {
            return Err(HprError::invalid(
                "points",
                format!(
                    "y does not grow from x = {x0} ({y0}) to x = {x1} ({y1}): no cost per unit"
                ),
            ));
        }
        Ok(LinearCost {
            fixed: y0 - per_unit * x0,
            per_unit,
        })
    }

    /// The cost at `x`.
    pub fn predict(&self, x: f64) -> f64 {
        self.fixed + self.per_unit * x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_exact_power_laws() {
        let points: Vec<(f64, f64)> = [1.0f64, 10.0, 100.0]
            .iter()
            .map(|&n| (n, 3.0 * n * n))
            .collect();
        let law = PowerLaw::fit(&points).unwrap();
        assert!((law.exponent - 2.0).abs() < 1e-12);
        assert!((law.coefficient - 3.0).abs() < 1e-9);
        assert!(law.exponent_std_error < 1e-9);
        assert!(PowerLaw::fit(&points[..2])
            .unwrap()
            .exponent_std_error
            .is_nan());
    }

    #[test]
    fn rejects_points_a_log_log_fit_cannot_use() {
        assert!(matches!(PowerLaw::fit(&[]), Err(HprError::Empty { .. })));
        let zero = PowerLaw::fit(&[(0.0, 1.0), (2.0, 2.0)]).unwrap_err();
        assert!(zero.to_string().contains("positive"), "{zero}");
        let same_x = PowerLaw::fit(&[(2.0, 1.0), (2.0, 2.0)]).unwrap_err();
        assert!(same_x.to_string().contains("two different x"), "{same_x}");
        assert!(matches!(
            PowerLaw::fit(&[(1.0, f64::NAN), (2.0, 1.0)]),
            Err(HprError::NotFinite { .. })
        ));
    }

    #[test]
    fn big_o_names_the_nearest_class() {
        let mut law = PowerLaw {
            exponent: 1.04,
            exponent_std_error: 0.01,
            coefficient: 1.0,
        };
        assert_eq!(law.big_o(), "≈ O(n^1.04), close to O(n)");
        law.exponent = 1.5;
        assert_eq!(law.big_o(), "≈ O(n^1.50)");
    }
}
