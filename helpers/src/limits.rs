//! `limits()`: this machine's measured physical limits (memory latency per cache level,
//! STREAM-like bandwidth, peak floating-point throughput), so that any measured throughput can be
//! read as a fraction of what the hardware allows.

use crate::error::{HprError, Result};
use crate::html::{display_in_jupyter, format_bytes, format_duration, label_value_table};
use crate::machine::machine;
use std::fmt;
use std::hint::black_box;
use std::time::Instant;

/// Average time of one dependent load when chasing pointers through `working_set` bytes in a
/// random cyclic order, one 64-byte cache line per node: the latency of whatever level of the
/// memory hierarchy holds that working set.
///
/// The buffer asks Linux for 2 MiB pages (transparent huge pages, where enabled): with 4 KiB
/// pages a random walk over more than a few MiB misses the TLB on nearly every load, and the
/// page-table walks would hide the step from L3 to main memory.
///
/// ```
/// let seconds = hpr::pointer_chase_latency(32 * 1024, 200_000).unwrap();
/// assert!(seconds > 0.0 && seconds < 1e-6);
/// ```
pub fn pointer_chase_latency(working_set: usize, steps: usize) -> Result<f64> {
    const LINE: usize = 64;
    let nodes = working_set / LINE;
    if nodes < 2 {
        return Err(HprError::invalid(
            "working_set",
            "at least two 64-byte cache lines are needed",
        ));
    }
    if steps == 0 {
        return Err(HprError::invalid("steps", "at least one step is needed"));
    }
    // Each node is one cache line; its first word is the index of the next node.
    let stride = LINE / std::mem::size_of::<usize>();
    let mut buffer = HugePageBuffer::new(nodes * stride);
    let memory = buffer.as_mut_slice();
    // Sattolo's algorithm: a random permutation that is one single cycle through every node.
    let mut order: Vec<usize> = (0..nodes).collect();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..nodes).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % i as u64) as usize;
        order.swap(i, j);
    }
    for i in 0..nodes {
        memory[order[i] * stride] = order[(i + 1) % nodes] * stride;
    }
    drop(order);
    let chase = |count: usize, start: usize| {
        let mut at = start;
        for _ in 0..count {
            at = memory[at];
        }
        black_box(at)
    };
    // Warm the caches (and the TLB) with one pass, then time.
    let at = chase(nodes.min(steps), 0);
    let started = Instant::now();
    black_box(chase(steps, at));
    Ok(started.elapsed().as_secs_f64() / steps as f64)
}

/// Zeroed `usize`s in memory aligned to 2 MiB and advised to use huge pages.
struct HugePageBuffer {
    pointer: *mut usize,
    layout: std::alloc::Layout,
    len: usize,
}

impl HugePageBuffer {
    const HUGE_PAGE: usize = 2 << 20;

    fn new(len: usize) -> HugePageBuffer {
        let bytes = (len * std::mem::size_of::<usize>()).next_multiple_of(Self::HUGE_PAGE);
        let layout = std::alloc::Layout::from_size_align(bytes, Self::HUGE_PAGE)
            .expect("a valid layout: size rounded to the alignment");
        // SAFETY: the layout has a non-zero size.
        let pointer = unsafe { std::alloc::alloc(layout) }.cast::<usize>();
        if pointer.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        #[cfg(target_os = "linux")]
        // SAFETY: the range is the allocation just made; advice does not change its contents.
        unsafe {
            libc::madvise(pointer.cast(), bytes, libc::MADV_HUGEPAGE);
        }
        // SAFETY: zeroing (and so faulting in) memory we own, after the advice.
        unsafe { std::ptr::write_bytes(pointer, 0, len) };
        HugePageBuffer {
            pointer,
            layout,
            len,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [usize] {
        // SAFETY: `len` zero-initialised usizes live at `pointer` for as long as `self`.
        unsafe { std::slice::from_raw_parts_mut(self.pointer, self.len) }
    }
}

impl Drop for HugePageBuffer {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.pointer.cast(), self.layout) };
    }
}

/// A STREAM kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// `sum += a[i]`: 8 bytes read per element.
    Read,
    /// `b[i] = a[i]`: 16 bytes moved per element.
    Copy,
    /// `a[i] = b[i] + s * c[i]`: 24 bytes moved per element.
    Triad,
}

impl Kernel {
    /// Bytes moved per element, as STREAM counts them.
    pub fn bytes_per_element(self) -> usize {
        match self {
            Kernel::Read => 8,
            Kernel::Copy => 16,
            Kernel::Triad => 24,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kernel::Read => "read",
            Kernel::Copy => "copy",
            Kernel::Triad => "triad",
        }
    }
}

/// Best-of-`repeats` bandwidth in bytes per second of `kernel` over arrays of `elements` f64
/// each, split over `threads` threads.
///
/// ```
/// use hpr::Kernel;
/// let bytes_per_second = hpr::stream_bandwidth(Kernel::Triad, 1 << 16, 1, 3).unwrap();
/// assert!(bytes_per_second > 1e8);
/// ```
pub fn stream_bandwidth(
    kernel: Kernel,
    elements: usize,
    threads: usize,
    repeats: usize,
) -> Result<f64> {
    if elements == 0 || threads == 0 || repeats == 0 {
        return Err(HprError::invalid(
            "elements/threads/repeats",
            "all must be at least 1",
        ));
    }
    let mut a = vec![1.0f64; elements];
    let mut b = vec![2.0f64; elements];
    let c = vec![0.5f64; elements];
    let chunk = elements.div_ceil(threads);
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let started = Instant::now();
        std::thread::scope(|scope| {
            let parts = a
                .chunks_mut(chunk)
                .zip(b.chunks_mut(chunk))
                .zip(c.chunks(chunk));
            for ((a, b), c) in parts {
                scope.spawn(move || match kernel {
                    Kernel::Read => {
                        // Eight independent sums: one sum would wait on each add's latency
                        // and measure the adder, not the memory.
                        let mut sums = [0.0f64; 8];
                        for lanes in a.chunks_exact(8) {
                            for (sum, x) in sums.iter_mut().zip(lanes) {
                                *sum += x;
                            }
                        }
                        black_box(sums);
                    }
                    Kernel::Copy => b.copy_from_slice(a),
                    Kernel::Triad => {
                        for ((a, b), c) in a.iter_mut().zip(b.iter()).zip(c) {
                            *a = b + 3.0 * c;
                        }
                    }
                });
            }
        });
        best = best.min(started.elapsed().as_secs_f64());
        black_box((&a, &b));
    }
    Ok((elements * kernel.bytes_per_element()) as f64 / best)
}

/// Peak double-precision FLOP/s of one thread, from a loop of independent fused multiply-adds
/// (AVX2+FMA where the CPU has it, plain SSE2 multiply and add otherwise), and which path ran.
pub fn peak_flops_one_thread(seconds: f64) -> (f64, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features this function needs were detected just above.
            return (unsafe { fma_avx2(seconds) }, "AVX2 FMA, 4 lanes");
        }
    }
    (multiply_add_portable(seconds), "portable multiply-add")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_avx2(seconds: f64) -> f64 {
    use std::arch::x86_64::*;
    // Ten independent chains hide the FMA latency (4 cycles) behind two FMA units.
    let mut acc = [_mm256_set1_pd(0.0); 10];
    let x = _mm256_set1_pd(black_box(0.999_999));
    let y = _mm256_set1_pd(black_box(1e-9));
    let mut flops = 0u64;
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..10_000 {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_pd(*a, x, y);
            }
        }
        flops += 10_000 * 10 * 4 * 2;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lanes = [0.0f64; 4];
    for a in acc {
        // SAFETY: `lanes` holds four f64, as the unaligned store writes.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), a) };
        black_box(lanes);
    }
    flops as f64 / elapsed
}

fn multiply_add_portable(seconds: f64) -> f64 {
    let mut acc = [0.0f64; 16];
    let x = black_box(0.999_999);
    let y = black_box(1e-9);
    let mut flops = 0u64;
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..10_000 {
            for a in acc.iter_mut() {
                *a = *a * x + y;
            }
        }
        flops += 10_000 * 16 * 2;
    }
    black_box(acc);
    flops as f64 / started.elapsed().as_secs_f64()
}

/// Latency of one level of the memory hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelLatency {
    /// `L1`, `L2`, `L3` or `DRAM`.
    pub level: String,
    /// The working set measured (half the cache, or far beyond the last level for DRAM).
    pub working_set: usize,
    /// Seconds per dependent load.
    pub seconds: f64,
}

/// One STREAM-like bandwidth measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Bandwidth {
    /// The kernel measured.
    pub kernel: Kernel,
    /// Threads used.
    pub threads: usize,
    /// Bytes per second.
    pub bytes_per_second: f64,
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
}

/// Measures (once per kernel, about 3 s) and returns this machine's limits.
///
/// The result is kept in the environment variable `HPR_LIMITS` of the process, because every
/// evcxr cell has its own copy of `hpr`'s statics; later calls in any cell return it at once.
pub fn limits() -> Limits {
    if let Some(cached) = std::env::var(LIMITS_ENV)
        .ok()
        .and_then(|s| Limits::decode(&s))
    {
        return cached;
    }
    let measured = Limits::measure();
    std::env::set_var(LIMITS_ENV, measured.encode());
    measured
}

const LIMITS_ENV: &str = "HPR_LIMITS";

impl Limits {
    fn measure() -> Limits {
        let this = machine();
        let threads = this.logical_cores;
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
        let dram_set = (largest as usize * 8).max(256 << 20);
        if let Ok(seconds) = pointer_chase_latency(dram_set, 2_000_000) {
            latency.push(LevelLatency {
                level: "DRAM".into(),
                working_set: dram_set,
                seconds,
            });
        }
        // Arrays of 8× the last-level cache (at least 64 MiB each) defeat the caches.
        let elements = (largest as usize * 8).max(64 << 20) / 8;
        let mut bandwidth = Vec::new();
        for kernel in [Kernel::Read, Kernel::Copy, Kernel::Triad] {
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
        }
    }

    /// Best bandwidth of `kernel` with `threads` threads (1, or all), in bytes per second.
    pub fn bandwidth_of(&self, kernel: Kernel, threads: usize) -> Option<f64> {
        self.bandwidth
            .iter()
            .find(|b| b.kernel == kernel && b.threads == threads)
            .map(|b| b.bytes_per_second)
    }

    /// `bytes_per_second` as a fraction of the measured bandwidth of `kernel` on `threads`.
    pub fn fraction_of_bandwidth(
        &self,
        bytes_per_second: f64,
        kernel: Kernel,
        threads: usize,
    ) -> Option<f64> {
        self.bandwidth_of(kernel, threads)
            .map(|limit| bytes_per_second / limit)
    }

    /// `flops` (per second) as a fraction of the peak of one thread, or of all threads.
    pub fn fraction_of_peak_flops(&self, flops: f64, all_threads: bool) -> f64 {
        flops
            / if all_threads {
                self.peak_flops_all_threads
            } else {
                self.peak_flops_one_thread
            }
    }

    fn encode(&self) -> String {
        let mut parts = vec![format!(
            "flops={},{},{},{}",
            self.peak_flops_one_thread,
            self.peak_flops_all_threads,
            self.threads,
            self.flops_method
        )];
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
        };
        for part in text.split(';') {
            let (key, value) = part.split_once('=')?;
            let fields: Vec<&str> = value.splitn(4, ',').collect();
            match (key, fields.as_slice()) {
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
                        "read" => Kernel::Read,
                        "copy" => Kernel::Copy,
                        "triad" => Kernel::Triad,
                        _ => return None,
                    },
                    threads: threads.parse().ok()?,
                    bytes_per_second: rate.parse().ok()?,
                }),
                _ => return None,
            }
        }
        (limits.threads > 0).then_some(limits)
    }

    fn rows(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
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

    /// An HTML table of the limits.
    pub fn to_html(&self) -> String {
        label_value_table(
            "measured limits of this machine",
            ["limit", "value"],
            self.rows(),
        )
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

display_in_jupyter!(Limits);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_grows_from_cache_to_memory() {
        let small = pointer_chase_latency(16 * 1024, 500_000).unwrap();
        let large = pointer_chase_latency(256 << 20, 500_000).unwrap();
        // A dependent load from DRAM is many times slower than from L1, on any machine.
        assert!(
            large > 4.0 * small,
            "L1-sized {small:e} s, DRAM-sized {large:e} s"
        );
        assert!(pointer_chase_latency(64, 10).is_err());
        assert!(pointer_chase_latency(4096, 0).is_err());
    }

    #[test]
    fn bandwidth_and_flops_are_positive_and_plausible() {
        let read = stream_bandwidth(Kernel::Read, 1 << 20, 1, 2).unwrap();
        assert!(read > 1e8 && read < 1e13, "{read}");
        assert!(stream_bandwidth(Kernel::Copy, 0, 1, 1).is_err());
        let (flops, method) = peak_flops_one_thread(0.02);
        assert!(flops > 1e8, "{flops} via {method}");
        assert!(multiply_add_portable(0.01) > 1e7);
    }

    #[test]
    fn limits_round_trip_through_the_environment_encoding() {
        let limits = Limits {
            latency: vec![LevelLatency {
                level: "L1".into(),
                working_set: 24576,
                seconds: 1.2e-9,
            }],
            bandwidth: vec![Bandwidth {
                kernel: Kernel::Triad,
                threads: 2,
                bytes_per_second: 1.5e10,
            }],
            peak_flops_one_thread: 3.2e10,
            peak_flops_all_threads: 6.4e10,
            flops_method: "AVX2 FMA, 4 lanes".into(),
            threads: 2,
        };
        assert_eq!(Limits::decode(&limits.encode()), Some(limits.clone()));
        assert_eq!(Limits::decode("garbage"), None);
        assert_eq!(
            limits.fraction_of_bandwidth(7.5e9, Kernel::Triad, 2),
            Some(0.5)
        );
        assert_eq!(limits.fraction_of_bandwidth(7.5e9, Kernel::Read, 2), None);
        assert_eq!(limits.fraction_of_peak_flops(1.6e10, false), 0.5);
        assert!(limits.to_html().contains("GFLOP/s"));
    }
}
