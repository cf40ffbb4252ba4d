//! `timeit`: IPython's `%timeit`, with the clock, the build profile and outliers accounted for.

use crate::clock::Clock;
use crate::error::{HprError, Result};
use crate::guard::catch_panics;
use crate::html::{csv_field, display_in_jupyter, escape, format_duration, notes_html, Table};
use crate::profile::BuildProfile;
use crate::stats::Summary;
use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Settings for a measurement: how many runs, how long each, and the whole call's budget.
///
/// The defaults follow IPython's `%timeit`: 7 runs of about 0.2 s each, with the loop count per
/// run chosen automatically; unlike `%timeit` the whole call also stays within a budget (2 s).
///
/// ```
/// use std::time::Duration;
/// let timing = hpr::Timeit::new()
///     .runs(5)
///     .budget(Duration::from_millis(100))
///     .run(|| (1..=100u64).sum::<u64>())
///     .unwrap();
/// assert_eq!(timing.per_run.len(), 5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Timeit {
    pub(crate) runs: usize,
    pub(crate) target: Duration,
    pub(crate) budget: Duration,
    pub(crate) name: String,
}

impl Default for Timeit {
    fn default() -> Self {
        Timeit {
            runs: 7,
            target: Duration::from_millis(200),
            budget: Duration::from_secs(2),
            name: String::new(),
        }
    }
}

impl Timeit {
    /// The default settings: 7 runs of about 0.2 s, at most about 2 s in all.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of measured runs (each a batch of loops); at least 1.
    pub fn runs(mut self, runs: usize) -> Self {
        self.runs = runs;
        self
    }

    /// Wanted duration of one run; the loop count is chosen to reach it.
    pub fn target(mut self, target: Duration) -> Self {
        self.target = target;
        self
    }

    /// Upper bound for the whole call; runs get shorter (and fewer, for slow code) to fit.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// A name shown with the result.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.runs == 0 {
            return Err(HprError::invalid("runs", "at least one run is needed"));
        }
        if self.target.is_zero() {
            return Err(HprError::invalid(
                "target",
                "a run must last longer than zero",
            ));
        }
        if self.budget.is_zero() {
            return Err(HprError::invalid(
                "budget",
                "a budget of zero leaves no time to measure; use e.g. Duration::from_secs(2)",
            ));
        }
        Ok(())
    }

    /// Times `work`, passing its result through `black_box`.
    pub fn run<R>(&self, work: impl FnMut() -> R) -> Result<Timing> {
        self.run_batches(batch_runner(work), None)
    }

    /// Times any batch runner: Rust closures, or another process such as Python.
    pub(crate) fn run_batches(
        &self,
        mut runner: BatchRunner<'_>,
        interpreter: Option<String>,
    ) -> Result<Timing> {
        self.validate()?;
        let started = Instant::now();
        let clock = Clock::get();
        let plan = catch_panics(|| plan_runs(&mut runner, self, 1, clock))??;
        let mut per_run = Vec::with_capacity(plan.runs);
        catch_panics(|| -> Result<()> {
            for _ in 0..plan.runs {
                per_run.push(per_loop(runner(plan.loops)?, plan.loops, clock));
            }
            Ok(())
        })??;
        let mut timing = Timing::new(
            self.name.clone(),
            per_run,
            plan,
            clock,
            started.elapsed().as_secs_f64(),
        )?;
        timing.interpreter = interpreter;
        Ok(timing)
    }

    /// Times `work(&input)`; the input goes through `black_box` on every call, so the compiler
    /// cannot precompute the work from a known input.
    pub fn run_with<I, R>(&self, input: I, mut work: impl FnMut(&I) -> R) -> Result<Timing> {
        self.run(move || work(black_box(&input)))
    }
}

/// Times `work` with the default settings: IPython's `%timeit` for a closure.
///
/// ```
/// let data: Vec<u64> = (0..1000).collect();
/// let timing = hpr::timeit(|| data.iter().sum::<u64>()).unwrap();
/// assert!(timing.summary.median > 0.0);
/// println!("{timing}"); // e.g. "52.1 ns ± 0.3 ns per loop (mean ± std. dev. of 7 runs, ...)"
/// ```
pub fn timeit<R>(work: impl FnMut() -> R) -> Result<Timing> {
    Timeit::new().run(work)
}

/// Runs a batch of `loops` calls and returns its wall time in seconds; fails only where the
/// code runs elsewhere (a Python process) and reports an error.
pub(crate) type BatchRunner<'a> = Box<dyn FnMut(u64) -> Result<f64> + 'a>;

/// Wraps a closure into a batch runner whose inner loop is monomorphised (no call per loop
/// through a pointer) and whose results go through `black_box`.
pub(crate) fn batch_runner<'a, R>(mut work: impl FnMut() -> R + 'a) -> BatchRunner<'a> {
    Box::new(move |loops| {
        let start = Instant::now();
        for _ in 0..loops {
            black_box(work());
        }
        Ok(start.elapsed().as_secs_f64())
    })
}

/// Seconds per loop for one batch, with the timer's own cost taken out.
pub(crate) fn per_loop(batch_seconds: f64, loops: u64, clock: Clock) -> f64 {
    (batch_seconds - clock.overhead).max(0.0) / loops as f64
}

/// Loop count and run count chosen for one piece of code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub(crate) loops: u64,
    pub(crate) runs: usize,
    pub(crate) notes: Vec<String>,
}

/// Chooses the loops per run so that one run lasts about the target, within this code's
/// share of the budget (`sharers` pieces of code split it in `compare`).
pub(crate) fn plan_runs(
    runner: &mut BatchRunner<'_>,
    settings: &Timeit,
    sharers: usize,
    clock: Clock,
) -> Result<Plan> {
    let share = settings.budget.as_secs_f64() / sharers as f64;
    // One run's worth of the share is kept for this calibration.
    let run_target = settings
        .target
        .as_secs_f64()
        .min(share / (settings.runs + 1) as f64);
    let first_call = runner(1)?;
    let mut notes = Vec::new();
    if first_call >= run_target {
        let fit = ((share - first_call) / first_call).floor();
        let runs = (fit.max(1.0) as usize).min(settings.runs);
        if runs < settings.runs {
            notes.push(format!(
                "one call takes {}, so only {runs} of {} runs fit the {} budget",
                format_duration(first_call),
                settings.runs,
                format_duration(settings.budget.as_secs_f64())
            ));
        }
        return Ok(Plan {
            loops: 1,
            runs,
            notes,
        });
    }
    let mut loops: u64 = 10;
    loop {
        let seconds = runner(loops)?;
        if seconds >= run_target {
            break;
        }
        // Once a batch is far above the timer's resolution, extrapolate instead of growing.
        if seconds >= 1e-3 || seconds >= 1000.0 * clock.resolution {
            let scaled = (loops as f64 * run_target / seconds).ceil();
            loops = (scaled as u64).max(loops + 1);
            break;
        }
        loops = loops.saturating_mul(10);
    }
    Ok(Plan {
        loops,
        runs: settings.runs,
        notes,
    })
}

/// The result of [`timeit`]: per-run times, their summary, and how they were taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The name given with [`Timeit::name`], or empty.
    pub name: String,
    /// Seconds per loop for each run, in the order measured.
    pub per_run: Vec<f64>,
    /// Loops (calls of the closure) in each run.
    pub loops_per_run: u64,
    /// Statistics of `per_run`.
    pub summary: Summary,
    /// The timer's resolution and overhead (subtracted from each run).
    pub clock: Clock,
    /// The build profile of the measured code (when it is Rust).
    pub profile: BuildProfile,
    /// The interpreter that ran the code, e.g. `CPython 3.11.7`, or `None` for Rust.
    pub interpreter: Option<String>,
    /// Warnings and notes about this measurement (cache effects, shortened runs).
    pub notes: Vec<String>,
    /// Wall time of the whole measurement, calibration included, in seconds.
    pub total_seconds: f64,
}

impl Timing {
    pub(crate) fn new(
        name: String,
        per_run: Vec<f64>,
        plan: Plan,
        clock: Clock,
        total_seconds: f64,
    ) -> Result<Timing> {
        let summary = Summary::new(&per_run)?;
        let mut notes = plan.notes;
        if summary.min > 0.0 && summary.max > 4.0 * summary.min {
            notes.push(format!(
                "The slowest run took {:.1} times longer than the fastest. This could mean that \
                 an intermediate result is being cached, or that the machine was busy.",
                summary.max / summary.min
            ));
        }
        Ok(Timing {
            name,
            per_run,
            loops_per_run: plan.loops,
            summary,
            clock,
            profile: BuildProfile::current(),
            interpreter: None,
            notes,
            total_seconds,
        })
    }

    /// Median seconds per loop: the number to compare.
    pub fn median(&self) -> f64 {
        self.summary.median
    }

    /// One CSV row per run: `name,run,seconds_per_loop,loops`.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("name,run,seconds_per_loop,loops\n");
        for (run, seconds) in self.per_run.iter().enumerate() {
            csv.push_str(&format!(
                "{},{run},{seconds:e},{}\n",
                csv_field(&self.name),
                self.loops_per_run
            ));
        }
        csv
    }

    /// An HTML table of the statistics with the notes under it.
    pub fn to_html(&self) -> String {
        let s = &self.summary;
        let mut table = Table::new(&self.name, &["statistic", "per loop"]);
        for (label, value) in [
            ("mean", s.mean),
            ("std. dev.", s.std_dev),
            ("min", s.min),
            ("median", s.median),
            ("max", s.max),
        ] {
            table.row(vec![label.into(), format_duration(value)]);
        }
        table.row(vec![
            "runs × loops".into(),
            format!("{} × {}", s.count, self.loops_per_run),
        ]);
        table.row(vec!["outlier runs".into(), s.outliers.to_string()]);
        format!(
            "<div><div>{}</div>{}{}</div>",
            escape(&self.to_string()),
            table.to_html(),
            notes_html(&self.footnotes())
        )
    }

    /// The notes plus the profile and the clock, as shown under every result.
    pub(crate) fn footnotes(&self) -> Vec<String> {
        let mut notes = self.notes.clone();
        notes.push(match &self.interpreter {
            Some(interpreter) => format!("Run by {interpreter}, timed inside the interpreter."),
            None => footnote(&self.profile, self.clock),
        });
        notes
    }
}

/// The line that states how numbers were measured.
pub(crate) fn footnote(profile: &BuildProfile, clock: Clock) -> String {
    format!(
        "Build: {profile}. Timer: resolution {}, {} per reading (subtracted).",
        format_duration(clock.resolution),
        format_duration(clock.overhead)
    )
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.name.is_empty() {
            write!(f, "{}: ", self.name)?;
        }
        write!(
            f,
            "{} ± {} per loop (mean ± std. dev. of {} run{}, {} loop{} each)",
            format_duration(self.summary.mean),
            format_duration(self.summary.std_dev),
            self.summary.count,
            if self.summary.count == 1 { "" } else { "s" },
            self.loops_per_run,
            if self.loops_per_run == 1 { "" } else { "s" },
        )
    }
}

display_in_jupyter!(Timing);

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn quick() -> Timeit {
        Timeit::new().budget(Duration::from_millis(60))
    }

    #[test]
    fn measures_a_sleep_within_reason() {
        let timing = Timeit::new()
            .runs(3)
            .budget(Duration::from_millis(200))
            .run(|| std::thread::sleep(Duration::from_millis(5)))
            .unwrap();
        assert!(timing.summary.min >= 0.005, "{timing}");
        assert!(timing.summary.median < 0.05, "{timing}");
    }

    #[test]
    fn slow_code_gets_fewer_runs_within_the_budget() {
        let timing = Timeit::new()
            .budget(Duration::from_millis(100))
            .run(|| std::thread::sleep(Duration::from_millis(30)))
            .unwrap();
        assert!(timing.per_run.len() < 7, "{timing}");
        assert!(timing.notes.iter().any(|n| n.contains("runs fit")));
        assert!(timing.total_seconds < 0.3);
    }

    #[test]
    fn fast_code_is_batched_into_many_loops() {
        let calls = Cell::new(0u64);
        let timing = quick().run(|| calls.set(calls.get() + 1)).unwrap();
        assert!(timing.loops_per_run > 1000, "{timing}");
        assert!(calls.get() >= timing.loops_per_run * 7);
        assert_eq!(timing.per_run.len(), 7);
    }

    #[test]
    fn a_panicking_closure_is_an_error_not_a_crash() {
        let error = quick().run(|| -> u8 { panic!("measured code failed") });
        assert!(
            matches!(error, Err(HprError::Panicked { ref message, .. }) if message == "measured code failed")
        );
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let zero_runs = Timeit::new().runs(0).run(|| 1);
        assert!(matches!(
            zero_runs,
            Err(HprError::InvalidArgument { name: "runs", .. })
        ));
        let zero_budget = Timeit::new().budget(Duration::ZERO).run(|| 1);
        assert!(matches!(
            zero_budget,
            Err(HprError::InvalidArgument { name: "budget", .. })
        ));
        let zero_target = Timeit::new().target(Duration::ZERO).run(|| 1);
        assert!(matches!(
            zero_target,
            Err(HprError::InvalidArgument { name: "target", .. })
        ));
    }

    #[test]
    fn inputs_reach_the_closure() {
        let timing = quick()
            .name("sum")
            .run_with(vec![1u64, 2, 3], |v| v.iter().sum::<u64>())
            .unwrap();
        assert_eq!(timing.name, "sum");
        assert!(timing.to_string().starts_with("sum: "));
    }

    #[test]
    fn renders_as_html_and_csv() {
        let timing = quick().name("a<b").run(|| 1 + 1).unwrap();
        let html = timing.to_html();
        assert!(html.contains("a&lt;b") && html.contains("<table"));
        assert!(html.contains("Build: opt-level"));
        let csv = timing.to_csv();
        assert_eq!(csv.lines().count(), 1 + timing.per_run.len());
        assert!(csv.contains("\na<b,0,"), "{csv}");
    }

    #[test]
    fn warns_when_runs_differ_a_lot() {
        let plan = Plan {
            loops: 1,
            runs: 3,
            notes: vec![],
        };
        let timing =
            Timing::new("x".into(), vec![1e-6, 1e-6, 9e-6], plan, Clock::get(), 0.1).unwrap();
        assert!(timing.notes.iter().any(|n| n.contains("9.0 times longer")));
    }
}
