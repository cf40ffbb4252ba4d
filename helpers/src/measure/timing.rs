//! The result of a timing: per-run times, their summary, how they were taken, and throughput.

use super::stats::Summary;
use super::throughput::{Throughput, Work};
use crate::error::Result;
use crate::machine::build_profile::BuildProfile;
use crate::machine::clock::Clock;
use crate::render::html::{csv_field, escape, notes_html, Table};
use crate::render::units::format_duration;
use crate::render::Render;
use std::fmt;

/// The result of [`timeit`](crate::timeit): per-run times, their summary, and how they were taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The name given with [`Timeit::name`](crate::Timeit::name), or empty.
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
    /// The rate of the work per call, where it was given (see [`Work`]).
    pub throughput: Option<Throughput>,
}

impl Timing {
    /// A timing of `per_run` seconds per loop, `loops` calls per run, with the planner's
    /// `notes`: the planner's own type stays in `timeit`, so that this module does not use it.
    pub(crate) fn new(
        name: String,
        per_run: Vec<f64>,
        loops: u64,
        mut notes: Vec<String>,
        clock: Clock,
        total_seconds: f64,
    ) -> Result<Timing> {
        let summary = Summary::new(&per_run)?;
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
            loops_per_run: loops,
            summary,
            clock,
            profile: BuildProfile::current(),
            interpreter: None,
            notes,
            total_seconds,
            throughput: None,
        })
    }

    /// Median seconds per loop: the number to compare.
    pub fn median(&self) -> f64 {
        self.summary.median
    }

    /// The same timing with the throughput of `work` per call (at the median time).
    pub fn work(mut self, work: Work) -> Timing {
        self.throughput = Some(work.throughput(self.median()));
        self
    }

    /// The notes plus the build profile (or interpreter) and the clock.
    pub(crate) fn footnotes(&self) -> Vec<String> {
        let mut notes = self.notes.clone();
        notes.push(match &self.interpreter {
            Some(interpreter) => format!("Run by {interpreter}, timed inside the interpreter."),
            None => footnote(&self.profile, self.clock),
        });
        notes
    }
}

impl Render for Timing {
    /// One CSV row per run: `name,run,seconds_per_loop,loops,build`.
    fn to_csv(&self) -> String {
        let build = self
            .interpreter
            .clone()
            .unwrap_or_else(|| self.profile.to_string());
        let mut csv = String::from("name,run,seconds_per_loop,loops,build\n");
        for (run, seconds) in self.per_run.iter().enumerate() {
            csv.push_str(&format!(
                "{},{run},{seconds:e},{},{}\n",
                csv_field(&self.name),
                self.loops_per_run,
                csv_field(&build)
            ));
        }
        csv
    }

    /// An HTML table of the statistics with the notes under it.
    fn to_html(&self) -> String {
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
        if let Some(throughput) = &self.throughput {
            table.row(vec!["throughput".into(), throughput.rate()]);
            if throughput.share().is_some() {
                table.row(vec!["share of the limit".into(), throughput.share_text()]);
            }
        }
        format!(
            "<div><div>{}</div>{}{}</div>",
            escape(&self.to_string()),
            table.to_html(),
            notes_html(&self.footnotes())
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_as_html_and_csv() {
        let timing = Timing::new(
            "a<b".into(),
            vec![1e-6, 2e-6, 3e-6],
            1,
            vec![],
            Clock::get(),
            0.1,
        )
        .unwrap();
        let html = timing.to_html();
        assert!(html.contains("a&lt;b") && html.contains("<table"));
        assert!(html.contains("Build: opt-level"));
        let csv = timing.to_csv();
        assert_eq!(csv.lines().count(), 1 + timing.per_run.len());
        assert!(csv.contains("\na<b,0,1e-6,1,\"opt-level"), "{csv}");
        assert_eq!(
            timing.to_string(),
            "a<b: 2.00 µs ± 1.00 µs per loop (mean ± std. dev. of 3 runs, 1 loop each)"
        );
    }

    #[test]
    fn throughput_shows_in_the_table() {
        let timing =
            Timing::new("copy".into(), vec![1e-3; 3], 1, vec![], Clock::get(), 0.1).unwrap();
        let ceiling = crate::Ceiling::Measured {
            label: "the test limit".into(),
            per_second: 4e9,
        };
        let timing = timing.work(Work::bytes(1_000_000).against(ceiling));
        let html = timing.to_html();
        assert!(html.contains("1.00 GB/s"), "{html}");
        assert!(html.contains("25.0% of the test limit"), "{html}");
    }

    #[test]
    fn warns_when_runs_differ_a_lot() {
        let timing = Timing::new(
            "x".into(),
            vec![1e-6, 1e-6, 9e-6],
            1,
            vec![],
            Clock::get(),
            0.1,
        )
        .unwrap();
        assert!(timing.notes.iter().any(|n| n.contains("9.0 times longer")));
    }
}
