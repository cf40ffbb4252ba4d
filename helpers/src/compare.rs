//! `compare`: several implementations measured interleaved, as ratios against a baseline.

use crate::clock::Clock;
use crate::error::{HprError, Result};
use crate::guard::catch_panics;
use crate::html::{csv_field, display_in_jupyter, format_duration, result_block, Table};
use crate::plot::{bar_chart, Bar};
use crate::profile::BuildProfile;
use crate::stats::{median, Summary};
use crate::timing::{batch_runner, footnote, per_loop, plan_runs, BatchRunner, Timeit};
use std::fmt;
use std::time::Instant;

/// One implementation to compare: a name and a closure (see [`candidate`]).
pub struct Candidate<'a> {
    pub(crate) name: String,
    pub(crate) runner: BatchRunner<'a>,
    /// The interpreter running this candidate, for Python candidates.
    pub(crate) interpreter: Option<String>,
}

/// Wraps a closure for [`compare`]; its result goes through `black_box`.
pub fn candidate<'a, R>(name: impl Into<String>, work: impl FnMut() -> R + 'a) -> Candidate<'a> {
    Candidate {
        name: name.into(),
        runner: batch_runner(work),
        interpreter: None,
    }
}

/// Measures each candidate with the default [`Timeit`] settings, interleaved, against the first.
///
/// ```
/// use hpr::{candidate, compare};
/// let v: Vec<u64> = (0..10_000).collect();
/// let result = compare(vec![
///     candidate("for loop", || { let mut s = 0; for x in &v { s += x; } s }),
///     candidate("iter().sum()", || v.iter().sum::<u64>()),
/// ]).unwrap();
/// assert_eq!(result.rows.len(), 2);
/// assert_eq!(result.rows[0].ratio, 1.0); // the baseline against itself
/// ```
pub fn compare(candidates: Vec<Candidate<'_>>) -> Result<Comparison> {
    compare_with(&Timeit::new(), candidates, 0)
}

/// [`compare`] with explicit settings (split among the candidates) and baseline index.
///
/// Runs are interleaved: round `r` runs every candidate once, in an order rotated by `r`, so
/// slow drift of the machine (turbo, other load) affects all candidates alike. Each round gives
/// one ratio per candidate; the spread of those ratios says whether a difference is real.
pub fn compare_with(
    settings: &Timeit,
    mut candidates: Vec<Candidate<'_>>,
    baseline: usize,
) -> Result<Comparison> {
    settings.validate()?;
    if candidates.is_empty() {
        return Err(HprError::Empty { what: "candidates" });
    }
    if baseline >= candidates.len() {
        return Err(HprError::invalid(
            "baseline",
            format!(
                "index {baseline}, but there are {} candidates",
                candidates.len()
            ),
        ));
    }
    let started = Instant::now();
    let clock = Clock::get();
    let sharers = candidates.len();
    let mut plans = Vec::with_capacity(sharers);
    for candidate in &mut candidates {
        let plan = catch_panics(|| plan_runs(&mut candidate.runner, settings, sharers, clock))
            .and_then(|plan| plan)
            .map_err(|e| named(&candidate.name, e))?;
        plans.push(plan);
    }
    // Every candidate gets the same number of rounds, so each round yields a full set of ratios.
    let rounds = plans.iter().map(|p| p.runs).min().unwrap_or(1);
    let mut per_run = vec![Vec::with_capacity(rounds); sharers];
    for round in 0..rounds {
        for offset in 0..sharers {
            let index = (round + offset) % sharers;
            let loops = plans[index].loops;
            let candidate = &mut candidates[index];
            let seconds = catch_panics(|| (candidate.runner)(loops))
                .and_then(|seconds| seconds)
                .map_err(|e| named(&candidate.name, e))?;
            per_run[index].push(per_loop(seconds, loops, clock));
        }
    }
    let base = &per_run[baseline];
    let mut rows = Vec::with_capacity(sharers);
    for (index, candidate) in candidates.iter().enumerate() {
        let summary = Summary::new(&per_run[index])?;
        let round_ratios: Vec<f64> = per_run[index]
            .iter()
            .zip(base)
            .map(|(t, b)| if *b > 0.0 { t / b } else { f64::NAN })
            .collect();
        let (ratio, ratio_low, ratio_high) = if round_ratios.iter().all(|r| r.is_finite()) {
            let low = round_ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let high = round_ratios
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            (median(&round_ratios), low, high)
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };
        rows.push(ComparisonRow {
            name: candidate.name.clone(),
            summary,
            per_run: per_run[index].clone(),
            loops_per_run: plans[index].loops,
            ratio: if index == baseline { 1.0 } else { ratio },
            ratio_low: if index == baseline { 1.0 } else { ratio_low },
            ratio_high: if index == baseline { 1.0 } else { ratio_high },
        });
    }
    let mut notes: Vec<String> = plans
        .iter()
        .zip(&candidates)
        .flat_map(|(plan, c)| plan.notes.iter().map(move |n| format!("{}: {n}", c.name)))
        .collect();
    for candidate in &candidates {
        if let Some(interpreter) = &candidate.interpreter {
            notes.push(format!(
                "{} runs in {interpreter}, timed inside the interpreter.",
                candidate.name
            ));
        }
    }
    if rows.iter().any(|r| r.ratio.is_nan()) {
        notes.push(
            "Some runs of the baseline took no measurable time, so ratios are undefined.".into(),
        );
    }
    Ok(Comparison {
        baseline,
        rows,
        rounds,
        clock,
        profile: BuildProfile::current(),
        notes,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

fn named(name: &str, error: HprError) -> HprError {
    match error {
        HprError::Panicked { message, location } => HprError::Panicked {
            message: format!("{message} (in candidate `{name}`)"),
            location,
        },
        HprError::Python { message } => HprError::Python {
            message: format!("in candidate `{name}`: {message}"),
        },
        other => other,
    }
}

/// One candidate's line in a [`Comparison`].
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// The candidate's name.
    pub name: String,
    /// Statistics of its seconds per loop.
    pub summary: Summary,
    /// Seconds per loop in each round.
    pub per_run: Vec<f64>,
    /// Loops per run.
    pub loops_per_run: u64,
    /// Median over rounds of (this time / baseline time) in the same round; below 1 is faster.
    pub ratio: f64,
    /// Smallest per-round ratio.
    pub ratio_low: f64,
    /// Largest per-round ratio.
    pub ratio_high: f64,
}

impl ComparisonRow {
    /// True when the per-round ratios straddle 1: the difference is within the noise.
    pub fn within_noise(&self) -> bool {
        self.ratio_low <= 1.0 && self.ratio_high >= 1.0
    }

    fn verdict(&self, is_baseline: bool) -> String {
        if is_baseline {
            "baseline".into()
        } else if self.ratio.is_nan() {
            "undefined".into()
        } else if self.within_noise() {
            "within noise".into()
        } else if self.ratio < 1.0 {
            format!("{:.2}× faster", 1.0 / self.ratio)
        } else {
            format!("{:.2}× slower", self.ratio)
        }
    }
}

/// The result of [`compare`]: a table of candidates with ratios, and a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Index of the baseline in `rows`.
    pub baseline: usize,
    /// One row per candidate, in the order given.
    pub rows: Vec<ComparisonRow>,
    /// Interleaved rounds measured.
    pub rounds: usize,
    /// The timer's resolution and overhead.
    pub clock: Clock,
    /// The build profile of the measured code.
    pub profile: BuildProfile,
    /// Notes about the measurement.
    pub notes: Vec<String>,
    /// Wall time of the whole comparison, in seconds.
    pub total_seconds: f64,
}

impl Comparison {
    /// The row named `name`.
    pub fn row(&self, name: &str) -> Option<&ComparisonRow> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// Median time of `name` divided by the baseline's (per round, then the median).
    pub fn ratio(&self, name: &str) -> Option<f64> {
        self.row(name).map(|r| r.ratio)
    }

    /// The bar chart of median times with min–max error bars.
    pub fn chart(&self) -> Result<crate::plot::Figure> {
        let scale = unit_scale(
            self.rows
                .iter()
                .map(|r| r.summary.median)
                .fold(0.0, f64::max),
        );
        let bars: Vec<Bar> = self
            .rows
            .iter()
            .map(|r| Bar {
                label: r.name.clone(),
                value: r.summary.median * scale.0,
                low: r.summary.min * scale.0,
                high: r.summary.max * scale.0,
            })
            .collect();
        bar_chart(
            "median time per call (bars: min to max over runs)",
            &format!("time per call ({})", scale.1),
            &bars,
        )
    }

    /// The table and the chart in one HTML block (evcxr keeps one block per cell).
    pub fn to_html(&self) -> String {
        let baseline = &self.rows[self.baseline].name;
        let mut table = Table::new(
            &format!(
                "compared against {baseline}, {} interleaved rounds",
                self.rounds
            ),
            &[
                "candidate",
                "median",
                "mean ± std. dev.",
                "min",
                "ratio",
                "range over rounds",
                "verdict",
            ],
        );
        for (index, row) in self.rows.iter().enumerate() {
            let s = &row.summary;
            table.row(vec![
                row.name.clone(),
                format_duration(s.median),
                format!(
                    "{} ± {}",
                    format_duration(s.mean),
                    format_duration(s.std_dev)
                ),
                format_duration(s.min),
                format_ratio(row.ratio),
                format!(
                    "{} – {}",
                    format_ratio(row.ratio_low),
                    format_ratio(row.ratio_high)
                ),
                row.verdict(index == self.baseline),
            ]);
        }
        let mut notes = self.notes.clone();
        notes.push(footnote(&self.profile, self.clock));
        result_block(&table, self.chart(), &notes)
    }

    /// One CSV row per candidate and round.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("candidate,round,seconds_per_loop,loops,ratio\n");
        for row in &self.rows {
            for (round, seconds) in row.per_run.iter().enumerate() {
                csv.push_str(&format!(
                    "{},{round},{seconds:e},{},{}\n",
                    csv_field(&row.name),
                    row.loops_per_run,
                    row.ratio
                ));
            }
        }
        csv
    }
}

/// Three decimals, or three significant digits in scientific notation for tiny ratios (a
/// binary search against a linear scan is 0.00004, not 0.000).
fn format_ratio(ratio: f64) -> String {
    if ratio != 0.0 && ratio.abs() < 0.01 {
        format!("{ratio:.2e}")
    } else {
        format!("{ratio:.3}")
    }
}

/// A unit to show times in: (factor to multiply seconds by, unit name).
pub(crate) fn unit_scale(largest_seconds: f64) -> (f64, &'static str) {
    if largest_seconds >= 1.0 {
        (1.0, "s")
    } else if largest_seconds >= 1e-3 {
        (1e3, "ms")
    } else if largest_seconds >= 1e-6 {
        (1e6, "µs")
    } else {
        (1e9, "ns")
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, row) in self.rows.iter().enumerate() {
            writeln!(
                f,
                "{:<24} {:>10}  ratio {:.3}  {}",
                row.name,
                format_duration(row.summary.median),
                row.ratio,
                row.verdict(index == self.baseline)
            )?;
        }
        Ok(())
    }
}

display_in_jupyter!(Comparison);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn quick() -> Timeit {
        Timeit::new().runs(5).budget(Duration::from_millis(150))
    }

    #[test]
    fn a_clearly_slower_candidate_has_a_ratio_above_one() {
        let result = compare_with(
            &quick(),
            vec![
                candidate("short", || std::thread::sleep(Duration::from_micros(200))),
                candidate("long", || std::thread::sleep(Duration::from_micros(2000))),
            ],
            0,
        )
        .unwrap();
        let long = result.row("long").unwrap();
        assert!(long.ratio > 3.0, "{result}");
        assert!(!long.within_noise());
        assert!(long.verdict(false).ends_with("slower"));
        assert_eq!(result.ratio("short"), Some(1.0));
        assert_eq!(result.rows[0].per_run.len(), result.rounds);
    }

    #[test]
    fn identical_candidates_are_close_to_one() {
        let work = || std::thread::sleep(Duration::from_micros(500));
        let result = compare_with(
            &quick(),
            vec![candidate("a", work), candidate("b", work)],
            1,
        )
        .unwrap();
        let ratio = result.ratio("a").unwrap();
        assert!(ratio > 0.5 && ratio < 2.0, "{result}");
        assert_eq!(result.baseline, 1);
    }

    #[test]
    fn renders_table_and_chart_in_one_block() {
        let result = compare_with(
            &quick(),
            vec![candidate("x", || 1), candidate("y", || 2)],
            0,
        )
        .unwrap();
        let html = result.to_html();
        assert!(html.contains("<table") && html.contains("<svg"));
        assert_eq!(
            html.matches("<div>").count(),
            1 + html.matches("<div><div>").count()
        );
        assert!(result.to_csv().lines().count() > 2);
    }

    #[test]
    fn tiny_ratios_keep_their_digits() {
        assert_eq!(format_ratio(0.5), "0.500");
        assert_eq!(format_ratio(4.2e-5), "4.20e-5");
        assert_eq!(format_ratio(0.0), "0.000");
    }

    #[test]
    fn bad_input_is_rejected_with_clear_errors() {
        assert!(matches!(
            compare(vec![]),
            Err(HprError::Empty { what: "candidates" })
        ));
        let bad_baseline = compare_with(&quick(), vec![candidate("x", || 1)], 3).unwrap_err();
        assert!(bad_baseline.to_string().contains("baseline"));
        let panics = compare_with(
            &quick(),
            vec![
                candidate("ok", || 1),
                candidate("boom", || -> i32 { panic!("broken") }),
            ],
            0,
        )
        .unwrap_err();
        assert!(
            panics.to_string().contains("in candidate `boom`"),
            "{panics}"
        );
    }
}
