//! [`Sections`]: named timers for the parts of a function, the analogue of line_profiler's
//! per-line view.

use crate::machine::build_profile::BuildProfile;
use crate::render::html::{csv_field, notes_html, Table};
use crate::render::units::format_duration;
use crate::render::Render;
use std::fmt;
use std::time::Instant;

/// Named section timers: wrap the parts of a function in [`Sections::time`] and see each
/// part's calls, total time and share, like line_profiler's per-line view.
///
/// Each timed section costs two clock readings (tens of nanoseconds), so time sections that run
/// for microseconds or more, not single lines of a tight loop.
///
/// ```
/// let mut sections = hpr::Sections::new();
/// let data: Vec<u64> = sections.time("build", || (0..100_000).collect());
/// let total: u64 = sections.time("sum", || data.iter().sum());
/// assert_eq!(total, 4_999_950_000);
/// assert_eq!(sections.calls("sum"), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sections {
    names: Vec<String>,
    calls: Vec<u64>,
    seconds: Vec<f64>,
}

impl Sections {
    /// No sections yet.
    pub fn new() -> Sections {
        Sections::default()
    }

    /// Runs `work`, adding its time to the section `name`, and returns its result.
    pub fn time<R>(&mut self, name: &str, work: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let result = work();
        let elapsed = started.elapsed().as_secs_f64();
        let index = match self.names.iter().position(|n| n == name) {
            Some(index) => index,
            None => {
                self.names.push(name.to_owned());
                self.calls.push(0);
                self.seconds.push(0.0);
                self.names.len() - 1
            }
        };
        self.calls[index] += 1;
        self.seconds[index] += elapsed;
        result
    }

    /// Times section `name` has run.
    pub fn calls(&self, name: &str) -> u64 {
        self.names
            .iter()
            .position(|n| n == name)
            .map_or(0, |i| self.calls[i])
    }

    /// Total seconds spent in section `name`.
    pub fn seconds(&self, name: &str) -> f64 {
        self.names
            .iter()
            .position(|n| n == name)
            .map_or(0.0, |i| self.seconds[i])
    }
}

impl Render for Sections {
    /// A table of sections in first-run order: calls, total, per call and share of all.
    fn to_html(&self) -> String {
        let total: f64 = self.seconds.iter().sum();
        let mut table = Table::new(
            "time per section",
            &["section", "calls", "total", "per call", "share"],
        );
        for ((name, &calls), &seconds) in self.names.iter().zip(&self.calls).zip(&self.seconds) {
            table.row(vec![
                name.clone(),
                calls.to_string(),
                format_duration(seconds),
                format_duration(seconds / calls.max(1) as f64),
                format!("{:.1}%", 100.0 * seconds / total.max(f64::MIN_POSITIVE)),
            ]);
        }
        let build = format!("Build: {}.", BuildProfile::current());
        format!("<div>{}{}</div>", table.to_html(), notes_html(&[build]))
    }

    /// One line per section: `section,calls,seconds`.
    fn to_csv(&self) -> String {
        let mut csv = String::from("section,calls,seconds\n");
        for ((name, calls), seconds) in self.names.iter().zip(&self.calls).zip(&self.seconds) {
            csv.push_str(&format!("{},{calls},{seconds:e}\n", csv_field(name)));
        }
        csv
    }
}

impl fmt::Display for Sections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ((name, calls), seconds) in self.names.iter().zip(&self.calls).zip(&self.seconds) {
            writeln!(
                f,
                "{name:<24} {calls:>8} calls {:>10}",
                format_duration(*seconds)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_accumulate_calls_and_time() {
        let mut sections = Sections::new();
        for _ in 0..3 {
            sections.time("sleep", || {
                std::thread::sleep(std::time::Duration::from_millis(2))
            });
        }
        assert_eq!(sections.calls("sleep"), 3);
        assert!(sections.seconds("sleep") >= 0.006);
        assert_eq!(sections.calls("missing"), 0);
        assert!(sections.to_html().contains("100.0%"));
        assert!(sections.to_html().contains("Build: opt-level"));
        assert_eq!(sections.to_csv().lines().count(), 2);
    }
}
