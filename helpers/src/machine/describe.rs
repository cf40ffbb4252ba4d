//! `machine()`: what this computer is, so that every notebook's numbers come with their context.

use super::build_profile::BuildProfile;
use super::clock::Clock;
use crate::render::html::label_value_table;
use crate::render::units::{format_bytes, format_duration};
use crate::render::Render;
use std::fmt;

/// One CPU cache, as the operating system describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cache {
    /// 1 for L1, 2 for L2...
    pub level: u32,
    /// `Data`, `Instruction` or `Unified`.
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
    /// How many logical CPUs share one of these caches.
    pub shared_by: usize,
}

/// A description of this machine: the result of [`machine`].
///
/// Values the platform does not expose are `None` (Linux exposes all of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// CPU model name.
    pub cpu: Option<String>,
    /// Logical CPUs this process may use.
    pub logical_cores: usize,
    /// Physical cores (distinct core ids).
    pub physical_cores: Option<usize>,
    /// Data and unified caches of CPU 0, smallest level first.
    pub caches: Vec<Cache>,
    /// Installed memory, in bytes.
    pub memory: Option<u64>,
    /// The kernel's clock source (`tsc`, `kvm-clock`...).
    pub clock_source: Option<String>,
    /// CPU 0's frequency governor (`performance`, `powersave`, `schedutil`...); virtual machines
    /// usually do not expose one.
    pub governor: Option<String>,
    /// Operating system kernel release.
    pub kernel: Option<String>,
    /// Resolution and cost of the timer.
    pub clock: Clock,
    /// The build profile measured code is compiled with.
    pub profile: BuildProfile,
}

impl Machine {
    /// Size of the data (or unified) cache at `level`, in bytes.
    pub fn cache_size(&self, level: u32) -> Option<u64> {
        self.caches
            .iter()
            .find(|c| c.level == level)
            .map(|c| c.size)
    }

    fn rows(&self) -> Vec<(String, String)> {
        let unknown = || "unknown".to_owned();
        let mut rows = vec![
            ("CPU".to_owned(), self.cpu.clone().unwrap_or_else(unknown)),
            (
                "cores".to_owned(),
                format!(
                    "{} logical, {} physical",
                    self.logical_cores,
                    self.physical_cores.map_or_else(unknown, |n| n.to_string())
                ),
            ),
        ];
        for cache in &self.caches {
            rows.push((
                format!("L{} {}", cache.level, cache.kind.to_lowercase()),
                format!(
                    "{} (shared by {} CPU{})",
                    format_bytes(cache.size as i64),
                    cache.shared_by,
                    if cache.shared_by == 1 { "" } else { "s" }
                ),
            ));
        }
        rows.extend([
            (
                "memory".to_owned(),
                self.memory.map_or_else(unknown, |m| format_bytes(m as i64)),
            ),
            (
                "clock source".to_owned(),
                self.clock_source.clone().unwrap_or_else(unknown),
            ),
            (
                "frequency governor".to_owned(),
                self.governor
                    .clone()
                    .unwrap_or_else(|| "not exposed".to_owned()),
            ),
            (
                "timer".to_owned(),
                format!(
                    "resolution {}, {} per reading",
                    format_duration(self.clock.resolution),
                    format_duration(self.clock.overhead)
                ),
            ),
            (
                "kernel".to_owned(),
                self.kernel.clone().unwrap_or_else(unknown),
            ),
            ("build profile".to_owned(), self.profile.to_string()),
        ]);
        rows
    }
}

impl Render for Machine {
    /// An HTML table of the machine's facts.
    fn to_html(&self) -> String {
        label_value_table("this machine", ["", ""], self.rows())
    }

    /// `fact,value` CSV of the same facts, as the table shows them.
    fn to_csv(&self) -> String {
        let rows = self.rows();
        let mut csv = String::from("fact,value\n");
        for (fact, value) in &rows {
            csv.push_str(&crate::render::html::csv_line([
                fact.as_str(),
                value.as_str(),
            ]));
        }
        csv
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, value) in self.rows() {
            writeln!(f, "{label:>14}: {value}")?;
        }
        Ok(())
    }
}

/// Describes this machine: CPU, cores, caches, memory, clock source, timer and build profile.
///
/// ```
/// let m = hpr::machine();
/// assert!(m.logical_cores >= 1);
/// println!("{m}");
/// ```
pub fn machine() -> Machine {
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    Machine {
        cpu: cpuinfo_field(&cpuinfo, "model name"),
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        physical_cores: physical_cores(&cpuinfo),
        caches: caches(),
        memory: read("/proc/meminfo")
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .map(str::to_owned)
            })
            .and_then(|line| parse_kib(&line["MemTotal:".len()..]))
            .map(|kib| kib * 1024),
        clock_source: read("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .map(|s| s.trim().to_owned()),
        governor: read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
            .map(|s| s.trim().to_owned()),
        kernel: read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()),
        clock: Clock::get(),
        profile: BuildProfile::current(),
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn cpuinfo_field(cpuinfo: &str, field: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == field)
        .map(|(_, value)| value.trim().to_owned())
}

/// Distinct (physical id, core id) pairs in `/proc/cpuinfo`.
fn physical_cores(cpuinfo: &str) -> Option<usize> {
    let mut cores = std::collections::BTreeSet::new();
    for block in cpuinfo.split("\n\n") {
        let package = cpuinfo_field(block, "physical id").unwrap_or_default();
        if let Some(core) = cpuinfo_field(block, "core id") {
            cores.insert((package, core));
        }
    }
    (!cores.is_empty()).then_some(cores.len())
}

/// Parses sizes such as `32K`, `1024 kB` or `8M` into bytes (`K` means KiB, as Linux uses it).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u64 = text[..digits_end].parse().ok()?;
    let multiplier = match text[digits_end..].trim().chars().next() {
        None => 1,
        Some('K' | 'k') => 1 << 10,
        Some('M' | 'm') => 1 << 20,
        Some('G' | 'g') => 1 << 30,
        Some(_) => return None,
    };
    Some(number * multiplier)
}

fn parse_kib(text: &str) -> Option<u64> {
    parse_size(text).map(|bytes| bytes / 1024)
}

/// Counts CPUs in a list such as `0-3,8-11`.
fn count_cpu_list(list: &str) -> usize {
    list.trim()
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('-') {
            Some((a, b)) => match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 1,
            },
            None => 1,
        })
        .sum()
}

fn caches() -> Vec<Cache> {
    let mut caches = Vec::new();
    for index in 0..16 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
        let Some(kind) = read(&format!("{dir}/type")) else {
            break;
        };
        let kind = kind.trim().to_owned();
        if kind == "Instruction" {
            continue;
        }
        let level = read(&format!("{dir}/level")).and_then(|l| l.trim().parse().ok());
        let size = read(&format!("{dir}/size")).and_then(|s| parse_size(&s));
        let shared_by = read(&format!("{dir}/shared_cpu_list")).map_or(1, |l| count_cpu_list(&l));
        if let (Some(level), Some(size)) = (level, size) {
            caches.push(Cache {
                level,
                kind,
                size,
                shared_by,
            });
        }
    }
    caches.sort_by_key(|c| c.level);
    caches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;

    #[test]
    fn parses_sizes_and_cpu_lists() {
        assert_eq!(parse_size("32K"), Some(32 * 1024));
        assert_eq!(parse_size("8M\n"), Some(8 << 20));
        assert_eq!(parse_size("1024 kB"), Some(1 << 20));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("x"), None);
        assert_eq!(count_cpu_list("0-3,8-11\n"), 8);
        assert_eq!(count_cpu_list("0"), 1);
    }

    #[test]
    fn reads_cpuinfo_fields_and_cores() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\n\n\
                       processor\t: 1\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\n\n\
                       processor\t: 2\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 1\n";
        assert_eq!(
            cpuinfo_field(cpuinfo, "model name").as_deref(),
            Some("Test CPU")
        );
        assert_eq!(physical_cores(cpuinfo), Some(2));
        assert_eq!(physical_cores(""), None);
    }

    #[test]
    fn describes_this_machine() {
        let m = machine();
        assert!(m.logical_cores >= 1);
        if cfg!(target_os = "linux") {
            assert!(m.memory.unwrap() > 1 << 20);
            assert!(m.cpu.is_some());
        }
        let text = m.to_string();
        assert!(text.contains("build profile: opt-level"), "{text}");
        assert!(m.to_html().contains("<table"));
        assert!(m.to_csv().starts_with("fact,value\nCPU,"), "{}", m.to_csv());
    }
}
