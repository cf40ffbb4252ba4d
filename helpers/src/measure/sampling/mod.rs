//! `profile`: a sampling profile of a closure as an inline flame graph (the Rust analogue of
//! cProfile or py-spy).

mod flame;
#[cfg(feature = "sampling")]
mod frames;

use crate::error::{HprError, Result};
use crate::machine::build_profile::BuildProfile;
use crate::render::html::{csv_field, notes_html, Table};
use crate::render::units::format_duration;
use crate::render::Render;
use std::collections::BTreeMap;
use std::fmt;

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
    /// The sampling frequency asked for, in samples per second of CPU time. The kernel's timer
    /// tick may deliver fewer (250 per second on many kernels): see [`Profile::effective_rate`].
    pub frequency: i32,
    /// Wall time of the closure, in seconds.
    pub seconds: f64,
}

/// Samples the call stack of `work`, asking for 997 samples per second of CPU time (a prime,
/// so that sampling does not fall into step with periodic work); the kernel's timer tick may
/// deliver fewer, and the result states the rate it got.
///
/// Needs hpr's `sampling` feature (pprof and the 38 crates it adds, which every other chapter
/// would check and link for nothing); without it this returns [`HprError::Unsupported`] naming
/// the `:dep` line that turns it on.
///
/// ```
/// # #[cfg(feature = "sampling")] {
/// let profile = hpr::profile(|| (0..20_000_000u64).map(|i| i ^ (i >> 3)).sum::<u64>()).unwrap();
/// assert!(profile.samples > 0);
/// # }
/// ```
pub fn profile<R>(work: impl FnOnce() -> R) -> Result<Profile> {
    profile_with(997, work)
}

/// [`profile`] asking for `frequency` samples per second of CPU time (1 to 10,000).
pub fn profile_with<R>(frequency: i32, work: impl FnOnce() -> R) -> Result<Profile> {
    if !(1..=10_000).contains(&frequency) {
        return Err(HprError::invalid(
            "frequency",
            "use 1 to 10,000 samples per second",
        ));
    }
    sample(frequency, work)
}

/// The `:dep` line of a notebook that needs [`profile`].
#[cfg(any(test, not(feature = "sampling")))]
const SAMPLING_DEP_LINE: &str = r#":dep hpr = { path = "../helpers", features = ["sampling"] }"#;

/// What [`profile`] answers when hpr was built without its `sampling` feature.
#[cfg(any(test, not(feature = "sampling")))]
fn sampling_off() -> HprError {
    HprError::Unsupported {
        what: "sampling profiles",
        reason: format!(
            "hpr was loaded without its `sampling` feature: add a cell right after the setup \
             cell with\n{SAMPLING_DEP_LINE}"
        ),
    }
}

#[cfg(not(feature = "sampling"))]
fn sample<R>(_frequency: i32, _work: impl FnOnce() -> R) -> Result<Profile> {
    Err(sampling_off())
}

/// The files of the temporary folder named like `tempfile`'s (`.tmpXXXXXX`) that this process
/// has open.
#[cfg(feature = "sampling")]
fn pprof_scratch_files() -> Vec<std::path::PathBuf> {
    let temp = std::env::temp_dir();
    let temp = std::fs::canonicalize(&temp).unwrap_or(temp);
    let Ok(descriptors) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    descriptors
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|path| {
            path.parent() == Some(temp.as_path())
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(".tmp") && !name.ends_with(" (deleted)"))
        })
        .collect()
}

/// pprof keeps its samples in a named temporary file, held by a process-wide static that is
/// never dropped, and opens the next one when a profile stops (reading a profile reopens it by
/// name, so it cannot be unlinked earlier). Every process that profiled would leave an empty
/// `.tmpXXXXXX` behind: a kernel's temporary folder goes with the kernel, but a test's is /tmp.
/// So the first profile registers an exit handler that removes them.
#[cfg(feature = "sampling")]
fn remove_pprof_files_at_exit() {
    extern "C" fn remove() {
        for path in pprof_scratch_files() {
            let _ = std::fs::remove_file(path);
        }
    }
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    // SAFETY: `remove` is a plain function that stays valid until the process ends.
    REGISTERED.call_once(|| unsafe {
        libc::atexit(remove);
    });
}

#[cfg(feature = "sampling")]
fn sample<R>(frequency: i32, work: impl FnOnce() -> R) -> Result<Profile> {
    use crate::processes::guard::catch_panics;
    use std::time::Instant;
    remove_pprof_files_at_exit();
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
    // Unresolved, to keep each frame's instruction pointer: it names the library a frame is in
    // even where the symbol table gives no address (stripped system libraries).
    let report = guard
        .report()
        .build_unresolved()
        .map_err(|e| HprError::Unsupported {
            what: "sampling profiles",
            reason: e.to_string(),
        });
    drop(guard);
    let _ = outcome?;
    let mut merged: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (sample, count) in report?.data {
        let names: Vec<String> = sample
            .frames
            .iter()
            .rev() // the leaf comes first; flame graphs grow from the root
            .flat_map(frames::labels)
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

#[cfg(feature = "sampling")]
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
        flame::flame_graph_svg(&self.stacks, self.samples)
    }

    /// Samples per second of wall time actually taken.
    pub fn effective_rate(&self) -> f64 {
        self.samples as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }
}

impl Render for Profile {
    /// The flame graph and the top functions in one HTML block.
    fn to_html(&self) -> String {
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
            "{} samples (asked for {} per second of CPU time) over {} of wall time.",
            self.samples,
            self.frequency,
            format_duration(self.seconds)
        )];
        let effective = self.effective_rate();
        if effective < 0.5 * f64::from(self.frequency) {
            notes.push(format!(
                "Effective rate {effective:.0} samples per second: the kernel's timer tick limits \
                 how often it can interrupt (often 250 times per second of CPU time)."
            ));
        }
        if self.samples < 50 {
            notes.push("Few samples: profile longer work for a steadier picture.".into());
        }
        notes.push(format!("Build: {}.", BuildProfile::current()));
        format!(
            "<div>{}{}{}</div>",
            self.flame_graph(),
            table.to_html(),
            notes_html(&notes)
        )
    }

    /// One line per function: `function,self_samples,total_samples`.
    fn to_csv(&self) -> String {
        let mut csv = String::from("function,self_samples,total_samples\n");
        for share in self.functions() {
            let name = csv_field(&share.name);
            csv.push_str(&format!(
                "{name},{},{}\n",
                share.self_samples, share.total_samples
            ));
        }
        csv
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_frequencies() {
        let error = profile_with(0, || 1).unwrap_err().to_string();
        assert!(error.contains("frequency"), "{error}");
    }

    #[test]
    fn without_sampling_the_error_names_the_dep_line() {
        let message = sampling_off().to_string();
        assert!(message.contains(SAMPLING_DEP_LINE), "{message}");
        #[cfg(not(feature = "sampling"))]
        assert_eq!(profile(|| 1).unwrap_err().to_string(), message);
    }
}

#[cfg(all(test, feature = "sampling"))]
mod sampled_tests {
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
        assert!(
            html.contains("Build: opt-level"),
            "the profile states the build"
        );
    }

    #[test]
    fn frames_inside_the_c_library_name_it() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        extern "C" {
            fn hypot(x: f64, y: f64) -> f64;
        }
        // About a second of CPU, nearly all of it inside libm's hypot (on a stack of our own).
        let work = || {
            let start = crate::test_support::thread_cpu_seconds();
            let mut total = 0.0;
            while crate::test_support::thread_cpu_seconds() - start < 0.5 {
                for i in 0..100_000 {
                    // SAFETY: hypot has no preconditions.
                    total += unsafe { hypot(black_box(i as f64), 3.0) };
                }
            }
            total
        };
        let profile = profile(work).unwrap();
        let in_libm = profile
            .functions()
            .into_iter()
            .find(|f| f.name.contains("hypot") && f.name.contains("[lib"));
        assert!(in_libm.is_some(), "{profile}");
    }

    #[test]
    fn no_scratch_file_outlives_a_profiling_process() {
        // A child with a temporary folder of its own profiles once and exits.
        let folder = std::env::temp_dir().join(format!("hpr-pprof-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "measure::sampling::sampled_tests::profiling_child",
                "--include-ignored",
            ])
            .env("TMPDIR", &folder)
            .output()
            .unwrap();
        let left: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name())
            .collect();
        let _ = std::fs::remove_dir_all(&folder);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        assert!(
            stdout.contains("1 passed"),
            "the child did not profile: {stdout}"
        );
        assert!(left.is_empty(), "the profiling process left {left:?}");
    }

    #[test]
    #[ignore = "run by no_scratch_file_outlives_a_profiling_process, with a TMPDIR of its own"]
    fn profiling_child() {
        profile(|| busy_leaf(black_box(1_000_000))).unwrap();
    }

    #[test]
    fn reports_panics() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        assert!(profile(|| -> u8 { panic!("inside the profile") })
            .unwrap_err()
            .to_string()
            .contains("inside the profile"));
    }

    #[test]
    fn only_the_profiled_closures_frames_are_kept() {
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
}
