//! `scaling`: time versus input size on log-log axes, with the fitted exponent (empirical big-O).

use super::throughput::{throughput_cells, Work, THROUGHPUT_COLUMNS};
use super::timeit::Timeit;
use super::timing::{footnote, Timing};
use crate::data::fit::{LinearCost, PowerLaw};
use crate::error::{HprError, Result};
use crate::processes::guard::catch_panics;
use crate::render::html::{csv_field, result_block, Table};
use crate::render::plot::{Figure, LineChart, Mark, Scale, Series};
use crate::render::units::format_duration;
use crate::render::Render;
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
    /// The power law fitted to the median times.
    pub fit: PowerLaw,
}

/// Times `work(&setup(n))` for each size `n` and fits a power law to the medians.
///
/// The setup runs once per size, outside the timing. Each size gets the default `Timeit`
/// settings scaled down so that the whole sweep takes well under 1 s per size.
///
/// ```
/// let sizes = [1_000, 10_000, 100_000];
/// let s = hpr::scaling(&sizes, |n| vec![1u64; n], |v| v.iter().sum::<u64>()).unwrap();
/// assert_eq!(s.points().len(), 3);
/// println!("{}", s.fit.big_o()); // summing is linear: about O(n^1.0)
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
        let input = catch_panics(|| setup(n))?;
        let timing = settings
            .clone()
            .name(format!("n = {n}"))
            .run_on(input, &mut work)?;
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
        .map(|(&n, t)| (n as f64, t.median()))
        .collect();
    Ok(Scaling {
        name: settings.name.clone(),
        sizes: sizes.to_vec(),
        fit: PowerLaw::fit(&points)?,
        timings,
    })
}

impl Scaling {
    /// The fitted time at size `n`, in seconds.
    pub fn predict(&self, n: usize) -> f64 {
        self.fit.predict(n as f64)
    }

    /// The timing at size `n`, found by size; fails naming the sizes that were measured.
    ///
    /// ```
    /// let curve = hpr::scaling_with(
    ///     &hpr::Timeit::new().runs(2).budget(std::time::Duration::from_millis(60)),
    ///     &[100, 1_000],
    ///     |n| vec![1u64; n],
    ///     |v| v.iter().sum::<u64>(),
    /// )?;
    /// assert!(curve.at(1_000)?.median() > 0.0);
    /// assert!(curve.at(10).unwrap_err().to_string().contains("[100, 1000]"));
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    pub fn at(&self, n: usize) -> Result<&Timing> {
        let index = self
            .sizes
            .iter()
            .position(|&size| size == n)
            .ok_or_else(|| {
                HprError::invalid(
                    "n",
                    format!("no size {n} was measured; the sizes are {:?}", self.sizes),
                )
            })?;
        Ok(&self.timings[index])
    }

    /// The measured `(n, median seconds)` points, e.g. to draw several sweeps on one chart.
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.sizes
            .iter()
            .zip(&self.timings)
            .map(|(&n, t)| (n as f64, t.median()))
            .collect()
    }

    /// The start-up and the cost per unit of `n`, through the smallest and the largest size:
    /// for work that costs a fixed time before it grows with `n` (starting a process, a call).
    pub fn linear_cost(&self) -> Result<LinearCost> {
        LinearCost::through_ends(&self.points())
    }

    /// The measured points as a chart series named `name`.
    pub fn series(&self, name: impl Into<String>) -> Series {
        Series::new(name, self.points())
    }

    /// The same sweep with the throughput of `work_at(n)` per call at each size.
    pub fn work(mut self, work_at: impl Fn(usize) -> Work) -> Scaling {
        self.timings = self
            .sizes
            .iter()
            .zip(self.timings)
            .map(|(&n, timing)| timing.work(work_at(n)))
            .collect();
        self
    }

    /// The log-log plot of medians and the fitted line.
    pub fn chart(&self) -> Result<Figure> {
        let fitted: Vec<(f64, f64)> = self
            .sizes
            .iter()
            .map(|&n| (n as f64, self.predict(n)))
            .collect();
        let title = if self.name.is_empty() {
            "time versus size"
        } else {
            &self.name
        };
        LineChart::new(title)
            .x_axis("n", Scale::Log)
            .y_axis("seconds per call", Scale::Log)
            .series(self.series("measured median"))
            .series(Series::new(format!("fit: {}", self.fit.big_o()), fitted).mark(Mark::Dashed))
            .draw()
    }
}

impl Render for Scaling {
    /// Table of sizes and times (and throughput, where given) plus the log-log chart.
    fn to_html(&self) -> String {
        let mut header = vec!["n", "median", "min", "max", "fit"];
        let with_work = self.timings.iter().any(|t| t.throughput.is_some());
        if with_work {
            header.extend(THROUGHPUT_COLUMNS);
        }
        let mut table = Table::new(&self.fit.to_string(), &header);
        for (&n, timing) in self.sizes.iter().zip(&self.timings) {
            let mut cells = vec![
                n.to_string(),
                format_duration(timing.median()),
                format_duration(timing.summary.min),
                format_duration(timing.summary.max),
                format_duration(self.predict(n)),
            ];
            if with_work {
                cells.extend(throughput_cells(timing.throughput.as_ref()));
            }
            table.row(cells);
        }
        let notes: Vec<String> = self
            .timings
            .iter()
            .flat_map(|t| t.notes.iter().map(move |n| format!("{}: {n}", t.name)))
            .chain(self.timings.first().map(|t| footnote(&t.profile, t.clock)))
            .collect();
        result_block(&table, self.chart(), &notes)
    }

    /// `n,median_seconds,min_seconds,max_seconds,work_per_second,build` CSV.
    fn to_csv(&self) -> String {
        let mut csv =
            String::from("n,median_seconds,min_seconds,max_seconds,work_per_second,build\n");
        for (&n, t) in self.sizes.iter().zip(&self.timings) {
            let rate = t.throughput.as_ref().map(|t| t.per_second.to_string());
            csv.push_str(&format!(
                "{n},{:e},{:e},{:e},{},{}\n",
                t.median(),
                t.summary.min,
                t.summary.max,
                rate.unwrap_or_default(),
                csv_field(&t.profile.to_string())
            ));
        }
        csv
    }
}

impl fmt::Display for Scaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.fit)?;
        for (&n, t) in self.sizes.iter().zip(&self.timings) {
            writeln!(f, "{n:>12}  {}", format_duration(t.median()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_timing_per_size_and_a_fit_through_them() {
        let settings = Timeit::new().runs(3).budget(Duration::from_millis(60));
        let sizes = [100, 200, 400];
        let s = scaling_with(
            &settings,
            &sizes,
            |n| vec![1u32; n],
            |v| v.iter().sum::<u32>(),
        )
        .unwrap();
        assert_eq!(s.timings.len(), 3);
        assert_eq!(s.points()[2].0, 400.0);
        // The fit is computed from the medians shown: recomputing it gives the same law.
        assert_eq!(PowerLaw::fit(&s.points()).unwrap(), s.fit);
        assert!(s.to_html().contains("<svg"));
        assert_eq!(s.to_csv().lines().count(), 4);
        assert!(s.to_csv().lines().nth(1).unwrap().contains(",\"opt-level "));
        let ceiling = crate::Ceiling::Measured {
            label: "x".into(),
            per_second: 1.0,
        };
        let with_work = s.work(|n| Work::bytes(4 * n as u64).against(ceiling.clone()));
        assert!(with_work.timings.iter().all(|t| t.throughput.is_some()));
        assert!(with_work.to_html().contains("share of the limit"));
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
}
