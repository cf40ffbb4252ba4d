//! `compare`: several implementations timed in interleaved rounds against a baseline.

use super::comparison::{Comparison, ComparisonRow};
use super::stats::{median, Summary};
use super::throughput::Work;
use super::timeit::{batch_runner, per_loop, plan_runs, BatchRunner, Timeit};
use crate::error::{HprError, Result};
use crate::machine::build_profile::BuildProfile;
use crate::machine::clock::Clock;
use crate::processes::guard::catch_panics;
use std::time::Instant;

/// One implementation to compare: a name and a closure (see [`candidate`]).
pub struct Candidate<'a> {
    pub(crate) name: String,
    pub(crate) runner: BatchRunner<'a>,
    /// The interpreter running this candidate, for Python candidates.
    pub(crate) interpreter: Option<String>,
    pub(crate) work: Option<Work>,
}

impl Candidate<'_> {
    /// The work one call does, so that the table shows throughput (see [`Work`]).
    pub fn work(mut self, work: Work) -> Self {
        self.work = Some(work);
        self
    }
}

/// Wraps a closure for [`compare`]; its result goes through `black_box`.
pub fn candidate<'a, R>(name: impl Into<String>, work: impl FnMut() -> R + 'a) -> Candidate<'a> {
    Candidate {
        name: name.into(),
        runner: batch_runner(work),
        interpreter: None,
        work: None,
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
            if let (0, Some(seconds)) = (round, plans[index].first_run) {
                per_run[index].push(per_loop(seconds, loops, clock));
                continue;
            }
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
        let summary_median = summary.median;
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
            throughput: candidate
                .work
                .as_ref()
                .map(|w| w.throughput(summary_median)),
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

impl Timeit {
    /// Compares `candidates` with these settings (split among them) in interleaved rounds,
    /// against the first: [`compare_with`] with baseline 0, written where the settings are.
    ///
    /// ```
    /// use hpr::{candidate, Timeit};
    /// use std::time::Duration;
    /// let v: Vec<u64> = (0..1000).collect();
    /// let table = Timeit::new().runs(3).budget(Duration::from_millis(200)).compare(vec![
    ///     candidate("for loop", || { let mut s = 0; for x in &v { s += x; } s }),
    ///     candidate("iter().sum()", || v.iter().sum::<u64>()),
    /// ]).unwrap();
    /// assert_eq!(table.rows[0].ratio, 1.0); // the first is the baseline
    /// ```
    pub fn compare(&self, candidates: Vec<Candidate<'_>>) -> Result<Comparison> {
        compare_with(self, candidates, 0)
    }

    /// [`Timeit::compare`] against the candidate named `baseline` instead of the first; a name
    /// no candidate has is an error that lists the names.
    pub fn compare_against(
        &self,
        baseline: &str,
        candidates: Vec<Candidate<'_>>,
    ) -> Result<Comparison> {
        let Some(index) = candidates.iter().position(|c| c.name == baseline) else {
            let names: Vec<&str> = candidates.iter().map(|c| c.name.as_str()).collect();
            return Err(HprError::invalid(
                "baseline",
                format!("no candidate is named {baseline:?}; the names: {names:?}"),
            ));
        };
        compare_with(self, candidates, index)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;
    use std::time::Duration;

    fn quick() -> Timeit {
        Timeit::new().runs(5).budget(Duration::from_millis(150))
    }

    /// A candidate whose calls "take" `seconds` each, so ratios are exact whatever the load.
    fn simulated(name: &str, seconds: f64) -> Candidate<'static> {
        Candidate {
            name: name.into(),
            runner: Box::new(move |loops| Ok(loops as f64 * seconds)),
            interpreter: None,
            work: None,
        }
    }

    #[test]
    fn settings_compare_against_the_first_or_a_named_baseline() {
        let first = quick()
            .compare(vec![simulated("slow", 2e-6), simulated("fast", 1e-6)])
            .unwrap();
        assert_eq!(first.ratio("slow").ok(), Some(1.0));
        assert!((first.ratio("fast").unwrap() - 0.5).abs() < 1e-9, "{first}");
        let named = quick()
            .compare_against(
                "fast",
                vec![simulated("slow", 2e-6), simulated("fast", 1e-6)],
            )
            .unwrap();
        assert_eq!(named.ratio("fast").ok(), Some(1.0));
        assert!((named.ratio("slow").unwrap() - 2.0).abs() < 1e-9, "{named}");
        let unknown = quick()
            .compare_against(
                "medium",
                vec![simulated("slow", 2e-6), simulated("fast", 1e-6)],
            )
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("\"medium\"") && unknown.contains("\"fast\""),
            "{unknown}"
        );
    }

    #[test]
    fn ratios_are_per_round_against_the_baseline() {
        let result = compare_with(
            &quick(),
            vec![simulated("short", 2e-4), simulated("long", 2e-3)],
            0,
        )
        .unwrap();
        let long = result.row("long").unwrap();
        // Exact but for the timer's own cost, which is subtracted from every batch.
        assert!((long.ratio - 10.0).abs() < 1e-3, "{result}");
        assert!(!long.within_noise());
        assert_eq!(long.verdict(false), "10.00× slower");
        assert_eq!(result.ratio("short").ok(), Some(1.0));
        assert!((result.speedup("short", "long").unwrap() - 10.0).abs() < 1e-3);
        assert_eq!(result.rows[0].per_run.len(), result.rounds);
    }

    #[test]
    fn identical_candidates_are_within_noise() {
        let result = compare_with(
            &quick(),
            vec![simulated("a", 1e-6), simulated("b", 1e-6)],
            1,
        )
        .unwrap();
        assert_eq!(result.ratio("a").ok(), Some(1.0));
        assert!(result.rows[0].within_noise());
        assert_eq!(result.baseline, 1);
    }

    #[test]
    fn renders_table_chart_and_throughput_in_one_block() {
        let ceiling = crate::Ceiling::Measured {
            label: "limit".into(),
            per_second: 1e9,
        };
        let result = compare_with(
            &quick(),
            vec![
                candidate("x", || 1),
                simulated("y", 1e-3).work(crate::Work::bytes(1_000_000).against(ceiling)),
            ],
            0,
        )
        .unwrap();
        let html = result.to_html();
        assert!(html.contains("<table") && html.contains("<svg"));
        assert!(
            html.contains("1.00 GB/s") && html.contains("100% of limit"),
            "{html}"
        );
        assert_eq!(
            html.matches("<div>").count(),
            1 + html.matches("<div><div>").count()
        );
        let csv = result.to_csv();
        assert_eq!(csv.lines().count(), 1 + 2 * result.rounds);
        assert!(csv.lines().last().unwrap().starts_with("y,"), "{csv}");
        let rate: f64 = csv
            .lines()
            .last()
            .unwrap()
            .split(',')
            .nth(5)
            .unwrap()
            .parse()
            .unwrap();
        assert!((rate / 1e9 - 1.0).abs() < 1e-3, "{csv}");
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
        let table = compare_with(&quick(), vec![simulated("a", 1e-6)], 0).unwrap();
        let missing = table.speedup("a", "b").unwrap_err().to_string();
        assert!(missing.contains("no candidate is named `b`"), "{missing}");
    }
}
