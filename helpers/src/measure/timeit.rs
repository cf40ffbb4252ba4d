//! `timeit`: IPython's `%timeit` for a closure: the settings, and how runs are planned.

use super::throughput::Work;
use super::timing::Timing;
use crate::error::{HprError, Result};
use crate::machine::clock::Clock;
use crate::processes::guard::catch_panics;
use crate::render::units::format_duration;
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
    pub(crate) work: Option<Work>,
}

impl Default for Timeit {
    fn default() -> Self {
        Timeit {
            runs: 7,
            target: Duration::from_millis(200),
            budget: Duration::from_secs(2),
            name: String::new(),
            work: None,
        }
    }
}

impl Timeit {
    /// The default settings: 7 runs of about 0.2 s, at most about 2 s in all.
    pub fn new() -> Self {
        Self::default()
    }

    /// The default settings for a measurement named `name`, shown with its result. As
    /// everywhere in hpr, the name comes first in the call that makes the measurement
    /// ([`candidate`](crate::candidate), [`memit_named`](crate::memit_named),
    /// [`Sections::time`](crate::Sections::time), [`Headline::new`](crate::Headline::new)).
    ///
    /// ```
    /// use hpr::prelude::*;
    /// let timing = Timeit::named("sum of 1,000").budget(Duration::from_millis(50))
    ///     .run(|| (0..1_000u64).sum::<u64>())?;
    /// assert_eq!(timing.name, "sum of 1,000");
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    pub fn named(name: impl Into<String>) -> Self {
        Self::new().name(name)
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

    /// The work one call does, so that the result shows its throughput (see [`Work`]).
    pub fn work(mut self, work: Work) -> Self {
        self.work = Some(work);
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
        let mut per_run: Vec<f64> = plan
            .first_run
            .iter()
            .map(|&s| per_loop(s, 1, clock))
            .collect();
        catch_panics(|| -> Result<()> {
            for _ in 0..plan.runs_left() {
                per_run.push(per_loop(runner(plan.loops)?, plan.loops, clock));
            }
            Ok(())
        })??;
        let mut timing = Timing::new(
            self.name.clone(),
            per_run,
            plan.loops,
            plan.notes,
            clock,
            started.elapsed().as_secs_f64(),
        )?;
        timing.interpreter = interpreter;
        Ok(match &self.work {
            Some(work) => timing.work(work.clone()),
            None => timing,
        })
    }

    /// Times `work(&input)`; the input goes through `black_box` on every call, so the compiler
    /// cannot precompute the work from a known input.
    pub fn run_on<I, R>(&self, input: I, mut work: impl FnMut(&I) -> R) -> Result<Timing> {
        self.run(move || work(black_box(&input)))
    }
}

/// Times `work` with the default settings: IPython's `%timeit` for a closure.
///
/// ```
/// let data: Vec<u64> = (0..1000).collect();
/// let timing = hpr::timeit(|| data.iter().sum::<u64>()).unwrap();
/// assert_eq!(timing.per_run.len(), 7);
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

/// The variable that selects how measurements run: unset (or `full`) for the settings each call
/// asks for, `check` for the smallest ones the planner accepts (what `make test` uses).
pub const MODE_ENV: &str = "HPR_MODE";

/// In check mode, at most this many runs of each piece of code...
const CHECK_RUNS: usize = 2;
/// ...of about this long each...
const CHECK_TARGET: Duration = Duration::from_millis(2);
/// ...within this budget per piece of code.
const CHECK_BUDGET: Duration = Duration::from_millis(30);

/// True when `HPR_MODE=check`: every measurement keeps its code path, its calls and its checks,
/// but runs at most 2 short runs, so that a notebook proves it runs without measuring to
/// publication quality; code slower than a run is called once, and that call is its run. The
/// numbers it prints are then rough, and the results it records say so.
///
/// ```
/// assert!(!hpr::check_mode() || std::env::var("HPR_MODE").as_deref() == Ok("check"));
/// ```
pub fn check_mode() -> bool {
    std::env::var(MODE_ENV).is_ok_and(|mode| mode == "check")
}

/// The settings a measurement of `sharers` pieces of code applies in the mode `mode` names.
fn applied_in(mode: Option<&str>, settings: &Timeit, sharers: usize) -> Result<Timeit> {
    match mode {
        None | Some("") | Some("full") => Ok(settings.clone()),
        Some("check") => Ok(Timeit {
            runs: settings.runs.min(CHECK_RUNS),
            target: settings.target.min(CHECK_TARGET),
            budget: settings.budget.min(CHECK_BUDGET * sharers as u32),
            ..settings.clone()
        }),
        Some(other) => Err(HprError::invalid(
            MODE_ENV,
            format!("{other:?}: leave it unset (or `full`) to measure, or `check`"),
        )),
    }
}

/// No batch grows past this many calls (code the optimiser removed takes no measurable time).
const MAX_LOOPS: u64 = 1_000_000_000_000;

/// Loop count and run count chosen for one piece of code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub(crate) loops: u64,
    pub(crate) runs: usize,
    pub(crate) notes: Vec<String>,
    /// In check mode, the planner's one-call batch of slow code, which counts as the first run
    /// (in full mode a first call may be cold, and is never kept).
    pub(crate) first_run: Option<f64>,
}

impl Plan {
    /// The runs still to time once `first_run` is counted.
    pub(crate) fn runs_left(&self) -> usize {
        self.runs - usize::from(self.first_run.is_some())
    }
}

/// Chooses the loops per run so that one run lasts about the target, within this code's
/// share of the budget (`sharers` pieces of code split it in `compare`), as this run's mode
/// applies the settings (see [`check_mode`]).
pub(crate) fn plan_runs(
    runner: &mut BatchRunner<'_>,
    settings: &Timeit,
    sharers: usize,
    clock: Clock,
) -> Result<Plan> {
    plan_runs_in(
        std::env::var(MODE_ENV).ok().as_deref(),
        runner,
        settings,
        sharers,
        clock,
    )
}

/// [`plan_runs`] in the mode `mode` names (the value of `HPR_MODE`).
fn plan_runs_in(
    mode: Option<&str>,
    runner: &mut BatchRunner<'_>,
    settings: &Timeit,
    sharers: usize,
    clock: Clock,
) -> Result<Plan> {
    let settings = &applied_in(mode, settings, sharers)?;
    let share = settings.budget.as_secs_f64() / sharers as f64;
    // Two runs' worth of the share are kept for this calibration: the first call, and the
    // batches after it.
    let run_target = settings
        .target
        .as_secs_f64()
        .min(share / (settings.runs + 2) as f64);
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
        // A check only needs the code to run: slow code runs once, not once more per run.
        return Ok(Plan {
            loops: 1,
            runs,
            notes,
            first_run: (mode == Some("check")).then_some(first_call),
        });
    }
    // Grow the batch until it lasts a tenth of the target, then scale it to the target: up for
    // fast code, and down when one batch already overshoots, so that no run lasts more than the
    // target (a 100 ms call is not run 10 times per run when the target is 200 ms). The first
    // calls may be slow (caches, lazy set-up, a clock speeding up): the batches start from a
    // second call, and one of a tenth of the target outlasts that, so runs are not cut short.
    let calibrated = (run_target / 10.0).max(1000.0 * clock.resolution);
    let (mut loops, mut seconds): (u64, f64) = (1, runner(1)?);
    while seconds < calibrated && loops < MAX_LOOPS {
        loops = loops.saturating_mul(10);
        seconds = runner(loops)?;
    }
    if seconds > 0.0 {
        // Rounded down, so that a run never outlasts the target (the budget reserves one each).
        let scaled = (loops as f64 * run_target / seconds * (1.0 + 1e-9)).floor();
        loops = (scaled as u64).clamp(1, MAX_LOOPS);
    }
    Ok(Plan {
        loops,
        runs: settings.runs,
        notes,
        first_run: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A runner whose batches "take" `seconds_per_call` each, whatever the machine does, so the
    /// planner is tested without timing anything.
    fn simulated(seconds_per_call: f64) -> BatchRunner<'static> {
        Box::new(move |loops| Ok(loops as f64 * seconds_per_call))
    }

    fn clock() -> Clock {
        Clock {
            resolution: 25e-9,
            overhead: 0.0,
        }
    }

    #[test]
    fn fast_code_is_batched_to_fill_a_run() {
        let settings = Timeit::new().budget(Duration::from_millis(900));
        // 7 runs and 2 for calibration share 0.9 s: 100 ms per run; at 10 ns per call, 10^7 loops.
        let plan = plan_runs(&mut simulated(10e-9), &settings, 1, clock()).unwrap();
        assert_eq!(plan.runs, 7);
        assert_eq!(plan.loops, 10_000_000);
        assert!(plan.notes.is_empty());
    }

    #[test]
    fn slow_code_gets_fewer_runs_within_the_budget() {
        let settings = Timeit::new().budget(Duration::from_millis(100));
        let plan = plan_runs(&mut simulated(0.030), &settings, 1, clock()).unwrap();
        // 30 ms per call: after the first call, 70 ms leave room for 2 runs of one call.
        assert_eq!((plan.loops, plan.runs), (1, 2));
        assert!(
            plan.notes[0].contains("only 2 of 7 runs fit"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn no_plan_outlasts_its_share_of_the_budget() {
        // 3 runs for each of 6 candidates in 6 s: a share of 1 s, runs of 0.2 s.
        let settings = Timeit::new().runs(3).budget(Duration::from_secs(6));
        let share: f64 = 1.0;
        for seconds_per_call in [1e-7, 1e-5, 1e-3, 0.01, 0.05, 0.1, 0.15, 0.19, 0.3, 0.6, 2.0] {
            let spent = Cell::new(0.0);
            let mut runner: BatchRunner<'_> = Box::new(|loops| {
                let seconds = loops as f64 * seconds_per_call;
                spent.set(spent.get() + seconds);
                Ok(seconds)
            });
            let plan = plan_runs(&mut runner, &settings, 6, clock()).unwrap();
            let total = spent.get() + (plan.runs as u64 * plan.loops) as f64 * seconds_per_call;
            // Code slower than half the share gets its first call and one run, whatever they take.
            let allowed = share.max(2.0 * seconds_per_call) * (1.0 + 1e-9);
            assert!(
                total <= allowed,
                "{seconds_per_call} s per call: {} runs of {} loops, {total} s in all",
                plan.runs,
                plan.loops
            );
            assert!(plan.runs >= 1 && plan.loops >= 1);
        }
    }

    #[test]
    fn a_slow_first_call_does_not_shorten_the_runs() {
        // The first call takes 5 ms (a cold cache), every later one 0.4 ms.
        let calls = Cell::new(0u64);
        let mut runner: BatchRunner<'_> = Box::new(|loops| {
            let cold = if calls.get() == 0 { 4.6e-3 } else { 0.0 };
            calls.set(calls.get() + loops);
            Ok(cold + loops as f64 * 0.4e-3)
        });
        let plan = plan_runs(&mut runner, &Timeit::new(), 1, clock()).unwrap();
        let run_seconds = plan.loops as f64 * 0.4e-3;
        assert!(
            (0.15..=0.2).contains(&run_seconds),
            "{} loops of 0.4 ms: runs of {run_seconds} s, not about the 0.2 s target",
            plan.loops
        );
    }

    #[test]
    fn calls_that_speed_up_over_milliseconds_do_not_shorten_the_runs() {
        // The first 5 ms of calls take 0.35 ms each, the later ones 0.09 ms (a clock ramping up).
        let spent = Cell::new(0.0);
        let mut runner: BatchRunner<'_> = Box::new(|loops| {
            let mut seconds = 0.0;
            for _ in 0..loops {
                seconds += if spent.get() + seconds < 5e-3 {
                    0.35e-3
                } else {
                    0.09e-3
                };
            }
            spent.set(spent.get() + seconds);
            Ok(seconds)
        });
        let plan = plan_runs(&mut runner, &Timeit::new(), 1, clock()).unwrap();
        let run_seconds = plan.loops as f64 * 0.09e-3;
        assert!(
            (0.1..=0.25).contains(&run_seconds),
            "{} loops of 0.09 ms: runs of {run_seconds} s, not about the 0.2 s target",
            plan.loops
        );
    }

    #[test]
    fn candidates_share_the_budget() {
        let settings = Timeit::new().budget(Duration::from_millis(800));
        let alone = plan_runs(&mut simulated(10e-9), &settings, 1, clock()).unwrap();
        let shared = plan_runs(&mut simulated(10e-9), &settings, 4, clock()).unwrap();
        assert_eq!(alone.loops, 4 * shared.loops);
    }

    #[test]
    fn every_planned_call_runs() {
        let calls = Cell::new(0u64);
        let timing = Timeit::new()
            .runs(3)
            .budget(Duration::from_millis(30))
            .run(|| calls.set(calls.get() + 1))
            .unwrap();
        assert_eq!(timing.per_run.len(), 3);
        assert!(calls.get() >= timing.loops_per_run * 3);
    }

    #[test]
    fn a_sleep_takes_at_least_its_duration() {
        let timing = Timeit::new()
            .runs(3)
            .budget(Duration::from_millis(200))
            .run(|| std::thread::sleep(Duration::from_millis(5)))
            .unwrap();
        // A lower bound the operating system guarantees; no upper bound, the machine may be busy.
        assert!(
            timing.summary.min >= 0.005 - timing.clock.resolution,
            "{timing}"
        );
    }

    #[test]
    fn a_panicking_closure_is_an_error_not_a_crash() {
        let error = Timeit::new().run(|| -> u8 { panic!("measured code failed") });
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
        let timing = Timeit::new()
            .budget(Duration::from_millis(30))
            .name("sum")
            .run_on(vec![1u64, 2, 3], |v| v.iter().sum::<u64>())
            .unwrap();
        assert_eq!(timing.name, "sum");
        assert!(timing.to_string().starts_with("sum: "));
    }

    #[test]
    fn check_mode_cuts_runs_and_budgets_and_nothing_else() {
        let asked = Timeit::new()
            .runs(7)
            .budget(Duration::from_secs(5))
            .name("sum");
        let check = applied_in(Some("check"), &asked, 4).unwrap();
        assert_eq!(check.runs, CHECK_RUNS);
        assert_eq!(check.target, CHECK_TARGET);
        assert_eq!(check.budget, CHECK_BUDGET * 4);
        assert_eq!(check.name, "sum");
        // A call asking for fewer runs or a smaller budget keeps what it asked.
        let small = Timeit::new().runs(1).budget(Duration::from_millis(5));
        let kept = applied_in(Some("check"), &small, 1).unwrap();
        assert_eq!((kept.runs, kept.budget), (1, Duration::from_millis(5)));
        assert_eq!(applied_in(None, &asked, 4).unwrap(), asked);
        assert_eq!(applied_in(Some("full"), &asked, 4).unwrap(), asked);
        let error = applied_in(Some("quick"), &asked, 1)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("HPR_MODE") && error.contains("quick"),
            "{error}"
        );
    }

    #[test]
    fn check_mode_plans_two_short_runs() {
        let settings = applied_in(Some("check"), &Timeit::new(), 1).unwrap();
        let plan = plan_runs(&mut simulated(10e-9), &settings, 1, Clock::get()).unwrap();
        assert_eq!(plan.runs, 2);
        let run_seconds = plan.loops as f64 * 10e-9;
        assert!(
            run_seconds <= 3e-3,
            "a check-mode run lasts {run_seconds} s"
        );
    }

    /// A runner of `seconds_per_call` that counts the calls it makes.
    fn counted(seconds_per_call: f64, calls: &Cell<u64>) -> BatchRunner<'_> {
        Box::new(move |loops| {
            calls.set(calls.get() + loops);
            Ok(loops as f64 * seconds_per_call)
        })
    }

    #[test]
    fn check_mode_counts_a_slow_first_call_as_the_run() {
        let settings = Timeit::new().runs(3).budget(Duration::from_secs(2));
        for (mode, first_run, calls) in [(Some("check"), Some(0.5), 1), (None, None, 1 + 3)] {
            let made = Cell::new(0);
            let mut runner = counted(0.5, &made);
            let plan = plan_runs_in(mode, &mut runner, &settings, 1, Clock::get()).unwrap();
            assert_eq!(plan.first_run, first_run, "{mode:?}");
            for _ in 0..plan.runs_left() {
                runner(plan.loops).unwrap();
            }
            assert_eq!(made.get(), calls, "{mode:?}: calls of slow code");
        }
        // Fast code is still calibrated on calls that are not kept.
        let made = Cell::new(0);
        let plan = plan_runs_in(
            Some("check"),
            &mut counted(1e-6, &made),
            &settings,
            1,
            Clock::get(),
        );
        assert_eq!(plan.unwrap().first_run, None);
    }
}
