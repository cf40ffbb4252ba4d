//! `scaling`: time versus input size on log-log axes, with the fitted exponent (empirical big-O).

use crate::error::{HprError, Result};
use crate::html::{display_in_jupyter, format_duration, result_block, Table};
use crate::plot::{line_chart, Mark, Scale, Series};
use crate::timing::{footnote, Timeit, Timing};
use std::fmt;
use std::time::Duration;

/// The result of [`scaling`]: one timing per size and the fitted power law `t ≈ c · n^k`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    /// A name for the measured work, or empty.
    pub name: String,
    /// The input sizes, as given.
    pub sizes: Vec<usize>,
    /// The timing at each size.
    pub timings: Vec<Timing>,
    /// The fitted exponent `k`: about 0 for O(1), 1 for O(n), 2 for O(n²).
    pub exponent: f64,
    /// The exponent's standard error from the fit's residuals (NaN with only two sizes).
    pub exponent_std_error: f64,
    /// The fitted constant `c`, in seconds.
    pub coefficient: f64,
}

/// Times `work(&setup(n))` for each size `n` and fits a power law to the medians.
///
/// The setup runs once per size, outside the timing. Each size gets the default `Timeit`
/// settings scaled down so that the whole sweep takes about 1 s per size at most.
///
/// ```
/// let s = hpr::scaling(&[1_000, 10_000, 100_000], |n| vec![1u64; n], |v| v.iter().sum::<u64>())
///     .unwrap();
/// assert!((s.exponent - 1.0).abs() < 0.3, "summing is linear: {}", s.exponent);
/// ```
pub fn scaling<T, R>(
    sizes: &[usize],
    setup: impl FnMut(usize) -> T,
    work: impl FnMut(&T) -> R,
) -> Result<Scaling> {
    let settings = Timeit::new()
        .runs(5)
        .target(Duration::from_millis(50))
        .budget(Duration::from_millis(600));
    scaling_with(&settings, sizes, setup, work)
}

/// [`scaling`] with explicit per-size settings (the name is used for the result).
pub fn scaling_with<T, R>(
    settings: &Timeit,
    sizes: &[usize],
    mut setup: impl FnMut(usize) -> T,
    mut work: impl FnMut(&T) -> R,
) -> Result<Scaling> {
    if sizes.is_empty() {
        return Err(HprError::Empty { what: "sizes" });
    }
    if sizes.contains(&0) {
        return Err(HprError::invalid(
            "sizes",
            "sizes must be positive: a log-log fit cannot place n = 0",
        ));
    }
    let mut distinct = sizes.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return Err(HprError::invalid(
            "sizes",
            "at least two different sizes are needed to fit an exponent",
        ));
    }
    settings.validate()?;
    let mut timings = Vec::with_capacity(sizes.len());
    for &n in sizes {
        let input = crate::guard::catch_panics(|| setup(n))?;
        let timing = settings
            .clone()
            .name(format!("n = {n}"))
            .run_with(input, &mut work)?;
        if timing.median() <= 0.0 {
            return Err(HprError::invalid(
                "work",
                format!(
                    "at n = {n} the work took no measurable time; the compiler may have removed \
                     it: return its result or pass values through std::hint::black_box"
                ),
            ));
        }
        timings.push(timing);
    }
    let points: Vec<(f64, f64)> = sizes
        .iter()
        .zip(&timings)
        .map(|(&n, t)| ((n as f64).ln(), t.median().ln()))
        .collect();
    let fit = fit_line(&points);
    Ok(Scaling {
        name: settings.name.clone(),
        sizes: sizes.to_vec(),
        timings,
        exponent: fit.slope,
        exponent_std_error: fit.slope_std_error,
        coefficient: fit.intercept.exp(),
    })
}

/// Least-squares line `y = intercept + slope · x` with the slope's standard error.
pub(crate) struct LineFit {
    pub(crate) slope: f64,
    pub(crate) intercept: f64,
    pub(crate) slope_std_error: f64,
}

pub(crate) fn fit_line(points: &[(f64, f64)]) -> LineFit {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let slope_std_error = if points.len() > 2 {
        let residuals: f64 = points
            .iter()
            .map(|p| (p.1 - intercept - slope * p.0).powi(2))
            .sum();
        (residuals / (n - 2.0) / sxx).sqrt()
    } else {
        f64::NAN
    };
    LineFit {
        slope,
        intercept,
        slope_std_error,
    }
}

impl Scaling {
    /// The fitted time at size `n`, in seconds.
    pub fn predict(&self, n: usize) -> f64 {
        self.coefficient * (n as f64).powf(self.exponent)
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

    /// The log-log plot of medians (with min–max whiskers as points) and the fitted line.
    pub fn chart(&self) -> Result<crate::plot::Figure> {
        let measured: Vec<(f64, f64)> = self
            .sizes
            .iter()
            .zip(&self.timings)
            .map(|(&n, t)| (n as f64, t.median()))
            .collect();
        let fitted: Vec<(f64, f64)> = self
            .sizes
            .iter()
            .map(|&n| (n as f64, self.predict(n)))
            .collect();
        let title = if self.name.is_empty() {
            "time versus size".to_owned()
        } else {
            self.name.clone()
        };
        line_chart(
            &title,
            "n",
            "seconds per call",
            &[
                Series::new("measured median", measured),
                Series::new(format!("fit: {}", self.big_o()), fitted).mark(Mark::Dashed),
            ],
            Scale::Log,
            Scale::Log,
        )
    }

    /// Table of sizes and times plus the log-log chart, in one HTML block.
    pub fn to_html(&self) -> String {
        let mut table = Table::new(
            &format!(
                "exponent {:.3} ± {:.3}: {}",
                self.exponent,
                self.exponent_std_error,
                self.big_o()
            ),
            &["n", "median", "min", "max", "fit"],
        );
        for (&n, timing) in self.sizes.iter().zip(&self.timings) {
            table.row(vec![
                n.to_string(),
                format_duration(timing.median()),
                format_duration(timing.summary.min),
                format_duration(timing.summary.max),
                format_duration(self.predict(n)),
            ]);
        }
        let notes: Vec<String> = self
            .timings
            .iter()
            .flat_map(|t| t.notes.iter().map(move |n| format!("{}: {n}", t.name)))
            .chain(self.timings.first().map(|t| footnote(&t.profile, t.clock)))
            .collect();
        result_block(&table, self.chart(), &notes)
    }

    /// `n,median_seconds,min_seconds,max_seconds` CSV.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("n,median_seconds,min_seconds,max_seconds\n");
        for (&n, t) in self.sizes.iter().zip(&self.timings) {
            csv.push_str(&format!(
                "{n},{:e},{:e},{:e}\n",
                t.median(),
                t.summary.min,
                t.summary.max
            ));
        }
        csv
    }
}

impl fmt::Display for Scaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "exponent {:.3} ± {:.3} ({})",
            self.exponent,
            self.exponent_std_error,
            self.big_o()
        )?;
        for (&n, t) in self.sizes.iter().zip(&self.timings) {
            writeln!(f, "{n:>12}  {}", format_duration(t.median()))?;
        }
        Ok(())
    }
}

display_in_jupyter!(Scaling);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_exact_power_laws() {
        let points: Vec<(f64, f64)> = [1.0f64, 10.0, 100.0]
            .iter()
            .map(|&n| (n.ln(), (3.0 * n * n).ln()))
            .collect();
        let fit = fit_line(&points);
        assert!((fit.slope - 2.0).abs() < 1e-12);
        assert!((fit.intercept.exp() - 3.0).abs() < 1e-9);
        assert!(fit.slope_std_error < 1e-9);
        assert!(fit_line(&points[..2]).slope_std_error.is_nan());
    }

    #[test]
    fn quadratic_work_has_an_exponent_near_two() {
        let settings = Timeit::new().runs(3).budget(Duration::from_millis(100));
        let s = scaling_with(
            &settings,
            &[100, 200, 400, 800],
            |n| n,
            |&n| {
                let mut total = 0u64;
                for i in 0..n {
                    for j in 0..n {
                        total = total.wrapping_add(std::hint::black_box((i ^ j) as u64));
                    }
                }
                total
            },
        )
        .unwrap();
        assert!((s.exponent - 2.0).abs() < 0.4, "{s}");
        assert!(s.to_html().contains("<svg"));
        assert_eq!(s.to_csv().lines().count(), 5);
    }

    #[test]
    fn rejects_bad_sizes() {
        let run = |sizes: &[usize]| scaling(sizes, |n| n, |&n| n);
        assert!(matches!(run(&[]), Err(HprError::Empty { what: "sizes" })));
        assert!(run(&[0, 10]).unwrap_err().to_string().contains("positive"));
        assert!(run(&[10, 10])
            .unwrap_err()
            .to_string()
            .contains("two different sizes"));
    }

    #[test]
    fn big_o_names_the_nearest_class() {
        let mut s = Scaling {
            name: String::new(),
            sizes: vec![],
            timings: vec![],
            exponent: 1.04,
            exponent_std_error: 0.01,
            coefficient: 1.0,
        };
        assert_eq!(s.big_o(), "≈ O(n^1.04), close to O(n)");
        s.exponent = 1.5;
        assert_eq!(s.big_o(), "≈ O(n^1.50)");
    }
}
