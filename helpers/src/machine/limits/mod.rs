//! `limits()`: this machine's measured physical limits (memory latency per cache level,
//! STREAM-like bandwidth, peak floating-point throughput), so that any measured throughput can be
//! read as a fraction of what the hardware allows.

mod bandwidth;
mod cache;
mod flops;
mod latency;

/// Bandwidths measured at a working set's size, kept for the process.
mod at_size {
    use super::{stream_bandwidth, StreamKernel};
    use std::sync::{Mutex, OnceLock};

    type Key = (StreamKernel, usize, usize);
    static MEASURED: Mutex<Vec<(Key, f64)>> = Mutex::new(Vec::new());
    static LAST_LEVEL: OnceLock<u64> = OnceLock::new();

    /// The largest cache's size, read from the machine's description once per process: every
    /// throughput with a bandwidth ceiling asks for it.
    pub(super) fn last_level_cache() -> u64 {
        *LAST_LEVEL.get_or_init(|| {
            let caches = super::machine().caches;
            caches.iter().map(|c| c.size).max().unwrap_or(0)
        })
    }

    /// The best of five runs of `kernel` over `elements` per array on `threads` threads.
    pub(super) fn bandwidth(kernel: StreamKernel, elements: usize, threads: usize) -> Option<f64> {
        let key = (kernel, elements, threads);
        let mut measured = MEASURED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, rate)) = measured.iter().find(|(k, _)| *k == key) {
            return Some(*rate);
        }
        let rate = stream_bandwidth(kernel, elements, threads, 5).ok()?;
        measured.push((key, rate));
        Some(rate)
    }
}

pub use bandwidth::{stream_bandwidth, Bandwidth, StreamKernel};
pub use flops::peak_flops_one_thread;
pub use latency::{pointer_chase_latency, LevelLatency};

use super::describe::machine;
use crate::render::html::label_value_table;
use crate::render::units::{format_bytes, format_duration, format_utc};
use crate::render::Render;
use std::fmt;

/// How the limits are measured; a change makes kept limits stale.
const METHOD: u32 = 2;

/// Seconds since the Unix epoch.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The result of [`limits`]: what this machine can do at best.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Latency per level, fastest first.
    pub latency: Vec<LevelLatency>,
    /// Read, copy and triad bandwidth on one thread and on all threads, arrays far larger than
    /// the last-level cache.
    pub bandwidth: Vec<Bandwidth>,
    /// Peak FLOP/s of one thread.
    pub peak_flops_one_thread: f64,
    /// Peak FLOP/s of all threads together.
    pub peak_flops_all_threads: f64,
    /// How the peak was measured (`AVX2 FMA, 4 lanes` or `portable multiply-add`).
    pub flops_method: String,
    /// Threads used for the "all threads" figures.
    pub threads: usize,
    /// When they were measured, in seconds since the Unix epoch: a kernel may read limits that
    /// an earlier kernel of this boot measured, and the table says when.
    pub measured_at: u64,
}

/// One thread, or every thread the machine offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// A single thread.
    One,
    /// As many threads as logical cores.
    All,
}

impl Threads {
    /// `1 thread` or `2 threads`, with the count of this machine.
    pub(crate) fn describe(self, limits: &Limits) -> String {
        match self {
            Threads::One => "1 thread".into(),
            Threads::All => format!("{} threads", limits.threads),
        }
    }
}

/// Measures and returns this machine's limits (3 s to a minute: the working sets grow with the
/// last-level cache). Later calls, from any cell, read the first measurement back, and so do
/// the later kernels of this boot of this machine, from `~/.cache/hpr/limits` (see the `cache`
/// module for how, and when a kernel keeps them there).
pub fn limits() -> Limits {
    // A cell after the first reads its process's file, without describing the machine again.
    if let Some(kept) = cache::read_for_process().and_then(|text| Limits::decode(&text)) {
        return kept;
    }
    let this = machine();
    // The method's version: limits kept by an older hpr, whose read kernel was slower, are
    // measured again.
    let described = format!(
        "method={METHOD} cpu={:?} cores={} caches={:?} memory={:?}",
        this.cpu,
        this.logical_cores,
        this.caches
            .iter()
            .map(|c| (c.level, c.size))
            .collect::<Vec<_>>(),
        this.memory
    );
    let limits = match cache::read_for_boot(&described).and_then(|text| Limits::decode(&text)) {
        Some(kept) => kept,
        None => {
            let measured = Limits::measure(&this);
            cache::keep_for_boot(&described, &measured.encode());
            measured
        }
    };
    cache::keep_for_process(&limits.encode());
    limits
}

/// The largest working set that [`Limits::measure`] allocates at once: an eighth of the memory,
/// so that a last-level cache reported large (a virtual machine may see its host's, 480 MiB)
/// never asks for more than the machine has. Without a known memory size, 4 GiB.
fn largest_allocation(this: &super::describe::Machine) -> usize {
    this.memory.map_or(4 << 30, |bytes| (bytes / 8) as usize)
}

impl Limits {
    fn measure(this: &super::describe::Machine) -> Limits {
        let threads = this.logical_cores;
        let cap = largest_allocation(this);
        let mut latency = Vec::new();
        let mut largest = 0u64;
        for cache in &this.caches {
            let working_set = (cache.size / 2) as usize;
            largest = largest.max(cache.size);
            if let Ok(seconds) = pointer_chase_latency(working_set, 2_000_000) {
                latency.push(LevelLatency {
                    level: format!("L{}", cache.level),
                    working_set,
                    seconds,
                });
            }
        }
        let dram_set = (largest as usize * 8).max(256 << 20).min(cap);
        if let Ok(seconds) = pointer_chase_latency(dram_set, 2_000_000) {
            latency.push(LevelLatency {
                level: "DRAM".into(),
                working_set: dram_set,
                seconds,
            });
        }
        // Arrays of 8× the last-level cache (at least 64 MiB each) defeat the caches; triad's
        // three arrays stay within the cap.
        let elements = (largest as usize * 8).max(64 << 20).min(cap / 3) / 8;
        let mut bandwidth = Vec::new();
        for kernel in [StreamKernel::Read, StreamKernel::Copy, StreamKernel::Triad] {
            for used in [1, threads] {
                if let Ok(bytes_per_second) = stream_bandwidth(kernel, elements, used, 4) {
                    bandwidth.push(Bandwidth {
                        kernel,
                        threads: used,
                        bytes_per_second,
                    });
                }
                if threads == 1 {
                    break;
                }
            }
        }
        let (one, method) = peak_flops_one_thread(0.2);
        let all: f64 = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| scope.spawn(|| peak_flops_one_thread(0.2).0))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
        });
        Limits {
            latency,
            bandwidth,
            peak_flops_one_thread: one,
            peak_flops_all_threads: all,
            flops_method: method.to_owned(),
            threads,
            measured_at: now(),
        }
    }

    fn thread_count(&self, threads: Threads) -> usize {
        match threads {
            Threads::One => 1,
            Threads::All => self.threads,
        }
    }

    /// Measured bandwidth of `kernel` on one thread or all, in bytes per second (`None` if it
    /// could not be measured).
    pub fn bandwidth_of(&self, kernel: StreamKernel, threads: Threads) -> Option<f64> {
        let count = self.thread_count(threads);
        self.bandwidth
            .iter()
            .find(|b| b.kernel == kernel && b.threads == count)
            .map(|b| b.bytes_per_second)
    }

    /// The bandwidth that bounds `kernel` over a working set of `bytes` (its arrays together),
    /// with the label a share shows: a working set up to four times the last-level cache is
    /// measured at its own size (once per kernel, size and thread count in a process, about 50
    /// ms), so that work in a cache is set against that cache; a larger one gets the memory's
    /// bandwidth from these limits. `None` where it could not be measured.
    pub fn bandwidth_at(
        &self,
        kernel: StreamKernel,
        threads: Threads,
        bytes: u64,
    ) -> Option<(String, f64)> {
        let last_level = at_size::last_level_cache();
        let used = self.thread_count(threads);
        let who = threads.describe(self);
        if bytes == 0 || bytes > 4 * last_level {
            let rate = self.bandwidth_of(kernel, threads)?;
            return Some((format!("{} bandwidth, {who}", kernel.name()), rate));
        }
        let elements = (bytes as usize / kernel.bytes_per_element()).max(used * 64);
        let rate = at_size::bandwidth(kernel, elements, used)?;
        let size = format_bytes(bytes as i64);
        Some((
            format!("{} bandwidth at {size}, {who}", kernel.name()),
            rate,
        ))
    }

    /// Peak FLOP/s of one thread or of all threads together.
    pub fn peak_flops(&self, threads: Threads) -> f64 {
        match threads {
            Threads::One => self.peak_flops_one_thread,
            Threads::All => self.peak_flops_all_threads,
        }
    }

    /// `bytes_per_second` as a fraction of the measured bandwidth of `kernel`.
    pub fn fraction_of_bandwidth(
        &self,
        bytes_per_second: f64,
        kernel: StreamKernel,
        threads: Threads,
    ) -> Option<f64> {
        self.bandwidth_of(kernel, threads)
            .map(|limit| bytes_per_second / limit)
    }

    /// `flops_per_second` as a fraction of the peak (`None` if the peak is not positive).
    pub fn fraction_of_peak_flops(&self, flops_per_second: f64, threads: Threads) -> Option<f64> {
        let peak = self.peak_flops(threads);
        (peak > 0.0).then(|| flops_per_second / peak)
    }

    fn encode(&self) -> String {
        let mut parts = vec![
            format!("at={}", self.measured_at),
            format!(
                "flops={},{},{},{}",
                self.peak_flops_one_thread,
                self.peak_flops_all_threads,
                self.threads,
                self.flops_method
            ),
        ];
        for l in &self.latency {
            parts.push(format!("lat={},{},{}", l.level, l.working_set, l.seconds));
        }
        for b in &self.bandwidth {
            parts.push(format!(
                "bw={},{},{}",
                b.kernel.name(),
                b.threads,
                b.bytes_per_second
            ));
        }
        parts.join(";")
    }

    fn decode(text: &str) -> Option<Limits> {
        let mut limits = Limits {
            latency: vec![],
            bandwidth: vec![],
            peak_flops_one_thread: 0.0,
            peak_flops_all_threads: 0.0,
            flops_method: String::new(),
            threads: 0,
            measured_at: 0,
        };
        for part in text.split(';') {
            let (key, value) = part.split_once('=')?;
            let fields: Vec<&str> = value.splitn(4, ',').collect();
            match (key, fields.as_slice()) {
                ("at", [seconds]) => limits.measured_at = seconds.parse().ok()?,
                ("flops", [one, all, threads, method]) => {
                    limits.peak_flops_one_thread = one.parse().ok()?;
                    limits.peak_flops_all_threads = all.parse().ok()?;
                    limits.threads = threads.parse().ok()?;
                    limits.flops_method = (*method).to_owned();
                }
                ("lat", [level, set, seconds]) => limits.latency.push(LevelLatency {
                    level: (*level).to_owned(),
                    working_set: set.parse().ok()?,
                    seconds: seconds.parse().ok()?,
                }),
                ("bw", [kernel, threads, rate]) => limits.bandwidth.push(Bandwidth {
                    kernel: match *kernel {
                        "read" => StreamKernel::Read,
                        "copy" => StreamKernel::Copy,
                        "triad" => StreamKernel::Triad,
                        _ => return None,
                    },
                    threads: threads.parse().ok()?,
                    bytes_per_second: rate.parse().ok()?,
                }),
                _ => return None,
            }
        }
        // A file without the time was written before limits kept it: measure again.
        (limits.threads > 0 && limits.measured_at > 0).then_some(limits)
    }

    fn rows(&self) -> Vec<(String, String)> {
        let mut rows = vec![("measured".to_owned(), format_utc(self.measured_at))];
        for l in &self.latency {
            rows.push((
                format!(
                    "latency {} ({} working set)",
                    l.level,
                    format_bytes(l.working_set as i64)
                ),
                format_duration(l.seconds),
            ));
        }
        for b in &self.bandwidth {
            rows.push((
                format!(
                    "{} bandwidth, {} thread{}",
                    b.kernel.name(),
                    b.threads,
                    if b.threads == 1 { "" } else { "s" }
                ),
                format!("{:.1} GB/s", b.bytes_per_second / 1e9),
            ));
        }
        rows.push((
            format!("peak FLOP/s, 1 thread ({})", self.flops_method),
            format!("{:.1} GFLOP/s", self.peak_flops_one_thread / 1e9),
        ));
        rows.push((
            format!("peak FLOP/s, {} threads", self.threads),
            format!("{:.1} GFLOP/s", self.peak_flops_all_threads / 1e9),
        ));
        rows
    }
}

impl Render for Limits {
    /// An HTML table of the limits.
    fn to_html(&self) -> String {
        label_value_table(
            "measured limits of this machine",
            ["limit", "value"],
            self.rows(),
        )
    }

    /// `limit,threads,working_set_bytes,value,unit` with raw numbers.
    fn to_csv(&self) -> String {
        let mut csv = String::from("limit,threads,working_set_bytes,value,unit\n");
        for l in &self.latency {
            let limit = format!("latency {}", l.level);
            csv.push_str(&format!("{limit},1,{},{:e},s\n", l.working_set, l.seconds));
        }
        for b in &self.bandwidth {
            let limit = format!("{} bandwidth", b.kernel.name());
            csv.push_str(&format!(
                "{limit},{},,{:e},B/s\n",
                b.threads, b.bytes_per_second
            ));
        }
        let peaks = [
            (1, self.peak_flops_one_thread),
            (self.threads, self.peak_flops_all_threads),
        ];
        for (threads, peak) in peaks {
            csv.push_str(&format!("peak flops,{threads},,{peak:e},FLOP/s\n"));
        }
        csv
    }
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, value) in self.rows() {
            writeln!(f, "{label}: {value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;

    #[test]
    fn limits_round_trip_through_the_cache_encoding() {
        let limits = Limits {
            latency: vec![LevelLatency {
                level: "L1".into(),
                working_set: 24576,
                seconds: 1.2e-9,
            }],
            bandwidth: vec![Bandwidth {
                kernel: StreamKernel::Triad,
                threads: 2,
                bytes_per_second: 1.5e10,
            }],
            peak_flops_one_thread: 3.2e10,
            peak_flops_all_threads: 6.4e10,
            flops_method: "AVX2 FMA, 4 lanes".into(),
            threads: 2,
            measured_at: 1_796_673_178,
        };
        assert_eq!(Limits::decode(&limits.encode()), Some(limits.clone()));
        assert_eq!(Limits::decode("garbage"), None);
        assert_eq!(
            limits.fraction_of_bandwidth(7.5e9, StreamKernel::Triad, Threads::All),
            Some(0.5)
        );
        assert_eq!(
            limits.fraction_of_bandwidth(7.5e9, StreamKernel::Read, Threads::All),
            None
        );
        assert_eq!(
            limits.fraction_of_peak_flops(1.6e10, Threads::One),
            Some(0.5)
        );
        assert_eq!(
            limits.fraction_of_peak_flops(1.6e10, Threads::All),
            Some(0.25)
        );
        assert!(limits.to_html().contains("GFLOP/s"));
        assert!(limits
            .to_string()
            .starts_with("measured: 2026-12-07 19:52 UTC\n"));
        let untimed = limits.encode().replace("at=1796673178;", "");
        assert_eq!(
            Limits::decode(&untimed),
            None,
            "a file of the old format is measured again"
        );
        let csv = limits.to_csv();
        assert!(csv.contains("triad bandwidth,2,,1.5e10,B/s"), "{csv}");
        assert_eq!(csv.lines().count(), 1 + 1 + 1 + 2);
    }
}
