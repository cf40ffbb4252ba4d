//! The conditions that decide whether numbers are comparable: chapter 13's reproducibility
//! checklist, read from the recorded results and measured on this machine now.

use super::recorded::Results;
use crate::error::Result;
use crate::machine::{machine, BuildProfile};
use crate::measure::{percentile, Timeit};
use crate::render::html::{csv_line, Table};
use crate::render::units::format_duration;
use crate::render::Render;
use std::fmt;
use std::time::Duration;

/// How one condition stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// As good as it gets for comparable numbers.
    Good,
    /// Worth knowing before comparing numbers: it may move them.
    Caution,
    /// This machine does not say.
    Unknown,
}

impl Verdict {
    fn symbol(self) -> &'static str {
        match self {
            Verdict::Good => "✔",
            Verdict::Caution => "✘",
            Verdict::Unknown => "?",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What is checked.
    pub check: String,
    /// What this run found.
    pub found: String,
    /// How it stands.
    pub verdict: Verdict,
}

/// The reproducibility checklist: see [`Results::conditions`].
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    /// One line per condition.
    pub checks: Vec<Check>,
    /// The spread of one fixed workload timed now: (p90 − p10) / median of its runs.
    pub noise_now: f64,
}

/// Above this spread of a fixed workload's runs, differences of a few percent are noise.
const QUIET: f64 = 0.05;

impl Results {
    /// The conditions the results were measured under and this machine's now: one machine and
    /// toolchain for all, the build profile, the CPU frequency governor, the clock, the noise of
    /// a fixed workload timed now and the noise the chapters measured, the results that moved
    /// since the run before, the claims seen, and when they were recorded.
    ///
    /// # Errors
    /// The fixed workload could not be timed.
    pub fn conditions(&self) -> Result<Conditions> {
        let this = machine();
        let noise_now = noise_of_a_fixed_workload()?;
        let mut checks = vec![self.one_machine(), self.same_toolchain()];
        checks.push(profile_check(&this.profile));
        checks.push(match &this.governor {
            Some(g) if g == "performance" => check("CPU frequency governor", g, Verdict::Good),
            Some(g) => check(
                "CPU frequency governor",
                &format!("{g}: the clock speed follows the load; `performance` holds it"),
                Verdict::Caution,
            ),
            None => check(
                "CPU frequency governor",
                "not exposed here (typical of a virtual machine): the host decides the speed",
                Verdict::Unknown,
            ),
        });
        let clock = this.clock;
        checks.push(check(
            "timer",
            &format!(
                "{} resolution, {} per reading ({})",
                format_duration(clock.resolution),
                format_duration(clock.overhead),
                this.clock_source
                    .as_deref()
                    .unwrap_or("clock source unknown")
            ),
            if clock.resolution <= 1e-7 {
                Verdict::Good
            } else {
                Verdict::Caution
            },
        ));
        checks.push(check(
            "noise now",
            &format!(
                "±{:.1} % between runs of one fixed workload ((p90 − p10) / median)",
                50.0 * noise_now
            ),
            if noise_now <= QUIET {
                Verdict::Good
            } else {
                Verdict::Caution
            },
        ));
        checks.extend([
            self.recorded_noise(),
            self.changes(),
            self.claims(),
            self.when(),
        ]);
        Ok(Conditions { checks, noise_now })
    }

    fn one_machine(&self) -> Check {
        let mut keys: Vec<&str> = self
            .chapters
            .iter()
            .map(|c| c.machine_key.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        match keys.as_slice() {
            [one] => check(
                "one machine for every chapter",
                &format!("all {} chapters: {one}", self.chapters.len()),
                Verdict::Good,
            ),
            many => check(
                "one machine for every chapter",
                &format!("{} different: {}", many.len(), many.join("; ")),
                Verdict::Caution,
            ),
        }
    }

    fn same_toolchain(&self) -> Check {
        let now = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|v| !v.is_empty());
        let Some(now) = now else {
            return check(
                "toolchain",
                "`rustc --version` did not answer",
                Verdict::Unknown,
            );
        };
        if self.chapters.iter().all(|c| c.machine_key.ends_with(&now)) {
            check("toolchain", &format!("{now}, as recorded"), Verdict::Good)
        } else {
            let found = format!("{now} now; the results name another (compare the machine keys)");
            check("toolchain", &found, Verdict::Caution)
        }
    }

    fn recorded_noise(&self) -> Check {
        let noises: Vec<(f64, &str)> = self
            .chapters
            .iter()
            .flat_map(|c| c.results.iter())
            .filter_map(|r| r.noise.map(|n| (n, r.name.as_str())))
            .collect();
        let values: Vec<f64> = noises.iter().map(|n| n.0).collect();
        let (Ok(median), Some(worst)) = (
            percentile(&values, 50.0),
            noises.iter().max_by(|a, b| a.0.total_cmp(&b.0)),
        ) else {
            return check(
                "noise the chapters measured",
                "none recorded",
                Verdict::Unknown,
            );
        };
        check(
            "noise the chapters measured",
            &format!(
                "median ±{:.1} % over {} results; widest ±{:.1} % ({})",
                100.0 * median,
                values.len(),
                100.0 * worst.0,
                worst.1
            ),
            if median <= 0.10 {
                Verdict::Good
            } else {
                Verdict::Caution
            },
        )
    }

    fn changes(&self) -> Check {
        let changed: Vec<String> = self
            .chapters
            .iter()
            .flat_map(|c| {
                c.changed
                    .iter()
                    .map(move |name| format!("{} {name}", c.number()))
            })
            .collect();
        let total: usize = self.chapters.iter().map(|c| c.results.len()).sum();
        let found = if changed.is_empty() {
            format!("none of {total} results moved beyond its noise (or no run before)")
        } else {
            format!("{} of {total}: {}", changed.len(), changed.join(", "))
        };
        let verdict = if changed.is_empty() {
            Verdict::Good
        } else {
            Verdict::Caution
        };
        check("changed since the run before", &found, verdict)
    }

    fn claims(&self) -> Check {
        let seen: usize = self.chapters.iter().map(|c| c.claims_seen.len()).sum();
        let missed: usize = self.chapters.iter().map(|c| c.claims_not_seen.len()).sum();
        check(
            "timing claims seen",
            &format!("{seen} of {}", seen + missed),
            if missed == 0 {
                Verdict::Good
            } else {
                Verdict::Caution
            },
        )
    }

    fn when(&self) -> Check {
        let times: Vec<(i64, &str)> = self
            .chapters
            .iter()
            .filter_map(|c| seconds_of(&c.recorded).map(|s| (s, c.recorded.as_str())))
            .collect();
        let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
            return check("recorded together", "no times recorded", Verdict::Unknown);
        };
        let hours = (last.0 - first.0) as f64 / 3600.0;
        check(
            "recorded together",
            &format!("{} to {} ({hours:.1} h apart)", first.1, last.1),
            if hours <= 6.0 {
                Verdict::Good
            } else {
                Verdict::Caution
            },
        )
    }
}

fn check(what: &str, found: &str, verdict: Verdict) -> Check {
    Check {
        check: what.to_owned(),
        found: found.to_owned(),
        verdict,
    }
}

fn profile_check(profile: &BuildProfile) -> Check {
    let verdict = if profile.is_release_grade() {
        Verdict::Good
    } else {
        Verdict::Caution
    };
    check("build profile", &profile.to_string(), verdict)
}

/// The spread of 30 runs of a fixed 1 ms workload.
fn noise_of_a_fixed_workload() -> Result<f64> {
    let data: Vec<u64> = (0..100_000).collect();
    let timing = Timeit::new()
        .runs(30)
        .budget(Duration::from_millis(600))
        .run(|| {
            std::hint::black_box(&data)
                .iter()
                .fold(0u64, |a, &x| a ^ x.rotate_left(7))
        })?;
    let spread = percentile(&timing.per_run, 90.0)? - percentile(&timing.per_run, 10.0)?;
    Ok(spread / timing.median())
}

/// Seconds since 1970 of a `YYYY-MM-DDTHH:MM:SS` time, for differences only.
fn seconds_of(time: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| time.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hh, mm, ss) = (number(11..13)?, number(14..16)?, number(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

impl Conditions {
    fn rows(&self) -> Vec<[&str; 3]> {
        self.checks
            .iter()
            .map(|c| [c.check.as_str(), c.found.as_str(), c.verdict.symbol()])
            .collect()
    }
}

impl Render for Conditions {
    /// The checklist: condition, what this run found, ✔ / ✘ / ?.
    fn to_html(&self) -> String {
        let mut table = Table::new("reproducibility checklist", &["condition", "found", ""]);
        for row in self.rows() {
            table.row(row.map(str::to_owned).to_vec());
        }
        table.to_html()
    }

    /// The same three columns, the verdict as `good`, `caution` or `unknown`.
    fn to_csv(&self) -> String {
        let mut csv = csv_line(["condition", "found", "verdict"]);
        for c in &self.checks {
            let verdict = match c.verdict {
                Verdict::Good => "good",
                Verdict::Caution => "caution",
                Verdict::Unknown => "unknown",
            };
            csv.push_str(&csv_line([c.check.as_str(), c.found.as_str(), verdict]));
        }
        csv
    }
}

impl fmt::Display for Conditions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for [what, found, verdict] in self.rows() {
            writeln!(f, "{verdict} {what}: {found}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{ChapterResults, Headline};
    use std::path::PathBuf;

    fn chapter(name: &str, key: &str, recorded: &str, noise: Option<f64>) -> ChapterResults {
        let mut result = Headline::new("r", 2.0, "×");
        result.noise = noise;
        ChapterResults {
            name: name.to_owned(),
            title: name.to_owned(),
            passed: true,
            seconds: 1.0,
            results: vec![result],
            claims_seen: vec!["a".into()],
            claims_not_seen: vec!["b".into()],
            changed: vec!["r".into()],
            machine_key: key.to_owned(),
            machine_summary: String::new(),
            recorded: recorded.to_owned(),
        }
    }

    #[test]
    fn the_checklist_flags_mixed_machines_changes_and_spread_out_runs() {
        let results = Results {
            dir: PathBuf::from("x"),
            chapters: vec![
                chapter(
                    "00-a",
                    "host-a | rustc 1",
                    "2026-12-01T23:00:00",
                    Some(0.02),
                ),
                chapter("01-b", "host-b | rustc 1", "2026-12-02T07:30:00", Some(0.3)),
            ],
        };
        let conditions = results.conditions().unwrap();
        let find = |what: &str| conditions.checks.iter().find(|c| c.check == what).unwrap();
        assert_eq!(
            find("one machine for every chapter").verdict,
            Verdict::Caution
        );
        assert!(find("one machine for every chapter")
            .found
            .starts_with("2 different"));
        assert_eq!(
            find("changed since the run before").found,
            "2 of 2: 00 r, 01 r"
        );
        assert_eq!(find("timing claims seen").found, "2 of 4");
        let when = find("recorded together");
        assert!(when.found.ends_with("(8.5 h apart)"), "{}", when.found);
        assert_eq!(when.verdict, Verdict::Caution);
        assert!(find("noise the chapters measured")
            .found
            .contains("widest ±30.0 %"));
        assert!(conditions.noise_now.is_finite() && conditions.noise_now >= 0.0);
        let csv = conditions.to_csv();
        assert!(csv.starts_with("condition,found,verdict\n"), "{csv}");
        assert!(conditions.to_html().contains("reproducibility checklist"));
    }

    #[test]
    fn times_count_across_days_and_years() {
        let a = seconds_of("2026-12-31T23:59:59").unwrap();
        let b = seconds_of("2027-01-01T00:00:01").unwrap();
        assert_eq!(b - a, 2);
        assert_eq!(seconds_of("1970-01-01T00:00:00"), Some(0));
        assert_eq!(seconds_of("yesterday"), None);
    }
}
