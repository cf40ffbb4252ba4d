//! `profile`: a sampling profile of a closure as an inline flame graph (the Rust analogue of
//! cProfile or py-spy), and [`Sections`]: named timers for the parts of a function (the analogue
//! of line_profiler's per-line view).

use crate::error::{HprError, Result};
use crate::guard::catch_panics;
use crate::html::{display_in_jupyter, escape, format_duration, notes_html, Table};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::Instant;

/// One sampled call stack, root first, with how many samples hit it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// Function names from the profiled closure (root) down to where the sample hit (leaf).
    pub frames: Vec<String>,
    /// Samples with exactly this stack.
    pub samples: u64,
}

/// The result of [`profile`]: sampled stacks, shown as a flame graph and a table of the
/// functions where time went.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Distinct stacks with their sample counts.
    pub stacks: Vec<Stack>,
    /// All samples taken inside the closure.
    pub samples: u64,
    /// Sampling frequency, in samples per second of CPU time.
    pub frequency: i32,
    /// Wall time of the closure, in seconds.
    pub seconds: f64,
}

/// Samples the call stack of `work` about 1000 times per second of CPU time.
///
/// ```
/// let profile = hpr::profile(|| (0..20_000_000u64).map(|i| i ^ (i >> 3)).sum::<u64>()).unwrap();
/// assert!(profile.samples > 0);
/// ```
pub fn profile<R>(work: impl FnOnce() -> R) -> Result<Profile> {
    profile_with(997, work)
}

/// [`profile`] at `frequency` samples per second (1 to 10,000).
pub fn profile_with<R>(frequency: i32, work: impl FnOnce() -> R) -> Result<Profile> {
    if !(1..=10_000).contains(&frequency) {
        return Err(HprError::invalid(
            "frequency",
            "use 1 to 10,000 samples per second",
        ));
    }
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(frequency)
        // Unwinding inside these can deadlock. pprof matches substrings of library paths, and
        // evcxr names its cell libraries `libcode_N.so`: "libc" alone would block every cell.
        .blocklist(&["/libc.so", "/libgcc_s.so", "/libpthread.so", "linux-vdso"])
        .build()
        .map_err(|e| HprError::Unsupported {
            what: "sampling profiles",
            reason: format!("{e} (only one profile can run at a time in a process)"),
        })?;
    let started = Instant::now();
    let outcome = catch_panics(work);
    let seconds = started.elapsed().as_secs_f64();
    let report = guard.report().build().map_err(|e| HprError::Unsupported {
        what: "sampling profiles",
        reason: e.to_string(),
    });
    drop(guard);
    let _ = outcome?;
    let mut merged: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (frames, count) in report?.data {
        let names: Vec<String> = frames
            .frames
            .iter()
            .rev() // pprof lists the leaf first; flame graphs grow from the root
            .flat_map(|inlined| {
                inlined
                    .iter()
                    .rev()
                    .map(|symbol| clean_name(&symbol.name()))
            })
            .collect();
        let frames = below_profiler(names);
        if !frames.is_empty() {
            *merged.entry(frames).or_default() += count.max(0) as u64;
        }
    }
    let stacks: Vec<Stack> = merged
        .into_iter()
        .map(|(frames, samples)| Stack { frames, samples })
        .collect();
    Ok(Profile {
        samples: stacks.iter().map(|s| s.samples).sum(),
        stacks,
        frequency,
        seconds,
    })
}

/// Keeps the frames of the profiled closure: drops those above it (the notebook runtime, `main`,
/// hpr's panic guard and the unwinding machinery it calls through) and those of the signal
/// handler that took the sample (pprof, the unwinder, the kernel's trampoline).
fn below_profiler(names: Vec<String>) -> Vec<String> {
    let is_sampler = |n: &String| {
        n.starts_with("pprof::")
            || n.starts_with("<pprof::")
            || n.starts_with("backtrace::")
            || n.contains("perf_signal_handler")
            || n == "__restore_rt"
    };
    let end = names.iter().position(is_sampler).unwrap_or(names.len());
    let start = names[..end]
        .iter()
        .rposition(|n| n.starts_with("hpr::guard::catch_panics"))
        .map_or(0, |guard| guard + 1);
    let is_plumbing = |n: &&String| {
        n.starts_with("std::panicking::")
            || n.starts_with("std::panic::")
            || n.starts_with("__rust_try")
            || n.starts_with("<core::panic::unwind_safe::AssertUnwindSafe")
            || n.starts_with("core::ops::function::FnOnce::call_once")
    };
    names[start..end]
        .iter()
        .skip_while(is_plumbing)
        .cloned()
        .collect()
}

/// Removes the hash suffix (`::h0123456789abcdef`) from a demangled Rust name.
fn clean_name(name: &str) -> String {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            head.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// A function's share of the samples.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionShare {
    /// The function.
    pub name: String,
    /// Samples where it was the innermost frame (its own code ran).
    pub self_samples: u64,
    /// Samples where it was anywhere on the stack (its code or its callees ran).
    pub total_samples: u64,
}

impl Profile {
    /// Functions by total samples, most first (recursion counted once per sample).
    pub fn functions(&self) -> Vec<FunctionShare> {
        let mut table: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for stack in &self.stacks {
            let mut seen = std::collections::BTreeSet::new();
            for name in &stack.frames {
                if seen.insert(name.as_str()) {
                    table.entry(name).or_default().1 += stack.samples;
                }
            }
            if let Some(leaf) = stack.frames.last() {
                table.entry(leaf).or_default().0 += stack.samples;
            }
        }
        let mut shares: Vec<FunctionShare> = table
            .into_iter()
            .map(|(name, (self_samples, total_samples))| FunctionShare {
                name: name.to_owned(),
                self_samples,
                total_samples,
            })
            .collect();
        shares.sort_by(|a, b| {
            b.total_samples
                .cmp(&a.total_samples)
                .then(b.self_samples.cmp(&a.self_samples))
        });
        shares
    }

    /// The flame graph: each box is a function, as wide as its share of the samples, stacked
    /// on its caller. Hover a box for its full name and count.
    pub fn flame_graph(&self) -> String {
        flame_graph_svg(&self.stacks, self.samples)
    }

    /// The flame graph and the top functions in one HTML block.
    pub fn to_html(&self) -> String {
        let mut table = Table::new("where the samples fell", &["function", "self", "total"]);
        let percent = |n: u64| format!("{:.1}%", 100.0 * n as f64 / self.samples.max(1) as f64);
        for share in self.functions().into_iter().take(12) {
            table.row(vec![
                share.name,
                percent(share.self_samples),
                percent(share.total_samples),
            ]);
        }
        let mut notes = vec![format!(
            "{} samples at {} Hz over {} of wall time.",
            self.samples,
            self.frequency,
            format_duration(self.seconds)
        )];
        let effective = self.samples as f64 / self.seconds.max(f64::MIN_POSITIVE);
        if effective < 0.5 * f64::from(self.frequency) {
            notes.push(format!(
                "Effective rate {effective:.0} samples per second: the kernel's timer tick limits \
                 how often it can interrupt (often 250 times per second of CPU time)."
            ));
        }
        if self.samples < 50 {
            notes.push("Few samples: profile longer work for a steadier picture.".into());
        }
        format!(
            "<div>{}{}{}</div>",
            self.flame_graph(),
            table.to_html(),
            notes_html(&notes)
        )
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} samples; functions by total share:", self.samples)?;
        for share in self.functions().into_iter().take(12) {
            writeln!(
                f,
                "{:>6.1}% total {:>6.1}% self  {}",
                100.0 * share.total_samples as f64 / self.samples.max(1) as f64,
                100.0 * share.self_samples as f64 / self.samples.max(1) as f64,
                share.name
            )?;
        }
        Ok(())
    }
}

display_in_jupyter!(Profile);

/// A node of the merged call tree.
#[derive(Default)]
struct Node {
    samples: u64,
    children: BTreeMap<String, Node>,
}

const WIDTH: f64 = 900.0;
const ROW: f64 = 17.0;

fn flame_graph_svg(stacks: &[Stack], total: u64) -> String {
    let mut root = Node::default();
    for stack in stacks {
        root.samples += stack.samples;
        let mut node = &mut root;
        for name in &stack.frames {
            node = node.children.entry(name.clone()).or_default();
            node.samples += stack.samples;
        }
    }
    let depth = stacks.iter().map(|s| s.frames.len()).max().unwrap_or(0);
    let height = (depth as f64 + 1.0) * ROW + 24.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"monospace\" font-size=\"11\"><text x=\"4\" y=\"14\" font-size=\"13\">\
         flame graph: {total} samples (width = share of time; callers below callees)</text>"
    );
    if total > 0 {
        // The root ("all") sits at the bottom, callees stack upwards.
        draw_node(&mut svg, "all", &root, 0.0, WIDTH, height - ROW, total);
    }
    svg.push_str("</svg>");
    svg
}

fn draw_node(svg: &mut String, name: &str, node: &Node, x: f64, width: f64, y: f64, total: u64) {
    if width < 0.5 {
        return;
    }
    let hash = name
        .bytes()
        .fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b));
    let (red, green, blue) = (
        205 + hash % 50,
        80 + (hash >> 8) % 120,
        40 + (hash >> 16) % 40,
    );
    let share = 100.0 * node.samples as f64 / total as f64;
    let label_chars = ((width - 6.0) / 6.6).floor().max(0.0) as usize;
    let label: String = if name.chars().count() <= label_chars {
        name.to_owned()
    } else if label_chars >= 4 {
        name.chars().take(label_chars - 2).collect::<String>() + ".."
    } else {
        String::new()
    };
    let _ = write!(
        svg,
        "<g><title>{} ({} samples, {share:.1}%)</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" \
         height=\"{h:.1}\" fill=\"rgb({red},{green},{blue})\" rx=\"2\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\">{}</text></g>",
        escape(name),
        node.samples,
        escape(&label),
        w = (width - 0.5).max(0.1),
        h = ROW - 1.0,
        tx = x + 3.0,
        ty = y + ROW - 5.0,
    );
    let mut child_x = x;
    for (child_name, child) in &node.children {
        let child_width = width * child.samples as f64 / node.samples.max(1) as f64;
        draw_node(svg, child_name, child, child_x, child_width, y - ROW, total);
        child_x += child_width;
    }
}

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

    /// A table of sections in first-run order: calls, total, per call and share of all.
    pub fn to_html(&self) -> String {
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
        table.to_html()
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

display_in_jupyter!(Sections);

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;
    use std::sync::Mutex;

    /// pprof runs one profiler per process: profiling tests take turns.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    #[inline(never)]
    fn busy_leaf(n: u64) -> u64 {
        (0..n).fold(0u64, |acc, i| {
            black_box(acc.wrapping_mul(31).wrapping_add(i))
        })
    }

    #[test]
    fn samples_land_in_the_busy_function() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let profile = profile_with(1000, || busy_leaf(black_box(300_000_000))).unwrap();
        assert!(profile.samples >= 20, "{profile}");
        let functions = profile.functions();
        assert!(
            functions
                .iter()
                .any(|f| f.name.contains("busy_leaf") && f.total_samples * 2 >= profile.samples),
            "{profile}"
        );
        let html = profile.to_html();
        assert!(html.contains("<svg") && html.contains("busy_leaf"));
    }

    #[test]
    fn rejects_bad_frequencies_and_reports_panics() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        assert!(profile_with(0, || 1).is_err());
        assert!(profile(|| -> u8 { panic!("inside the profile") })
            .unwrap_err()
            .to_string()
            .contains("inside the profile"));
    }

    #[test]
    fn names_lose_their_hashes_and_profiler_frames() {
        assert_eq!(
            clean_name("julia::calculate::h0123456789abcdef"),
            "julia::calculate"
        );
        assert_eq!(clean_name("main"), "main");
        let frames: Vec<String> = [
            "main",
            "hpr::guard::catch_panics",
            "std::panicking::catch_unwind",
            "user::work",
            "user::leaf",
            "__restore_rt",
            "pprof::profiler::perf_signal_handler",
            "backtrace::trace",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            below_profiler(frames),
            vec!["user::work".to_owned(), "user::leaf".into()]
        );
    }

    #[test]
    fn flame_graph_widths_follow_samples() {
        let stacks = vec![
            Stack {
                frames: vec!["a".into(), "b".into()],
                samples: 3,
            },
            Stack {
                frames: vec!["a".into(), "c".into()],
                samples: 1,
            },
        ];
        let svg = flame_graph_svg(&stacks, 4);
        assert!(svg.contains("<title>b (3 samples, 75.0%)</title>"), "{svg}");
        assert!(svg.contains("<title>a (4 samples, 100.0%)</title>"));
    }

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
    }
}
