//! Memory bandwidth: STREAM-like kernels over arrays of a chosen size.

use crate::error::{HprError, Result};
use std::hint::black_box;
use std::time::Instant;

/// A STREAM kernel: the loop whose bandwidth [`stream_bandwidth`] measures (not a Jupyter kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKernel {
    /// `sum += a[i]`: 8 bytes read per element.
    Read,
    /// `b[i] = a[i]`: 16 bytes moved per element.
    Copy,
    /// `a[i] = b[i] + s * c[i]`: 24 bytes moved per element.
    Triad,
}

impl StreamKernel {
    /// Bytes moved per element, as STREAM counts them.
    pub fn bytes_per_element(self) -> usize {
        match self {
            StreamKernel::Read => 8,
            StreamKernel::Copy => 16,
            StreamKernel::Triad => 24,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            StreamKernel::Read => "read",
            StreamKernel::Copy => "copy",
            StreamKernel::Triad => "triad",
        }
    }
}

/// Bytes each timed repetition moves at least: a working set that fits in a cache is passed over
/// again and again, so that starting the threads and reading the clock cost little beside it.
const BYTES_PER_REPETITION: usize = 64 << 20;

/// Best-of-`repeats` bandwidth in bytes per second of `kernel` over arrays of `elements` f64
/// each, split over `threads` threads. Arrays small enough for a cache are passed over several
/// times per repetition, so the result is that cache's bandwidth; the read kernel uses AVX2 where
/// the processor has it, with enough independent sums to keep every load port busy.
///
/// ```
/// use hpr::StreamKernel;
/// let bytes_per_second = hpr::stream_bandwidth(StreamKernel::Triad, 1 << 16, 1, 3).unwrap();
/// assert!(bytes_per_second > 0.0);
/// ```
pub fn stream_bandwidth(
    kernel: StreamKernel,
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
    let bytes_per_pass = elements * kernel.bytes_per_element();
    let passes = BYTES_PER_REPETITION.div_ceil(bytes_per_pass).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let started = Instant::now();
        if threads == 1 {
            run_passes(kernel, passes, &mut a, &mut b, &c);
        } else {
            std::thread::scope(|scope| {
                let parts = a
                    .chunks_mut(chunk)
                    .zip(b.chunks_mut(chunk))
                    .zip(c.chunks(chunk));
                for ((a, b), c) in parts {
                    scope.spawn(move || run_passes(kernel, passes, a, b, c));
                }
            });
        }
        best = best.min(started.elapsed().as_secs_f64());
        black_box((&a, &b));
    }
    Ok((bytes_per_pass * passes) as f64 / best)
}

fn run_passes(kernel: StreamKernel, passes: usize, a: &mut [f64], b: &mut [f64], c: &[f64]) {
    for _ in 0..passes {
        match kernel {
            StreamKernel::Read => {
                black_box(read(black_box(&*a)));
            }
            StreamKernel::Copy => b.copy_from_slice(black_box(&*a)),
            StreamKernel::Triad => {
                for ((a, b), c) in a.iter_mut().zip(b.iter()).zip(c) {
                    *a = b + 3.0 * c;
                }
                black_box(&*a);
            }
        }
    }
}

/// The sum of `values`, as fast as this processor reads them.
fn read(values: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { read_avx2(values) };
    }
    read_lanes(values)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn read_avx2(values: &[f64]) -> f64 {
    read_lanes(values)
}

/// 32 independent sums (eight 4-lane vectors): one sum would wait on each add's latency and
/// measure the adder, not the memory.
#[inline(always)]
fn read_lanes(values: &[f64]) -> f64 {
    let mut sums = [0.0f64; 32];
    let lanes = values.chunks_exact(32);
    let rest: f64 = lanes.remainder().iter().sum();
    for lane in lanes {
        for (sum, x) in sums.iter_mut().zip(lane) {
            *sum += x;
        }
    }
    sums.iter().sum::<f64>() + rest
}

/// One STREAM-like bandwidth measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Bandwidth {
    /// The kernel measured.
    pub kernel: StreamKernel,
    /// Threads used.
    pub threads: usize,
    /// Bytes per second.
    pub bytes_per_second: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_is_a_positive_rate() {
        for kernel in [StreamKernel::Read, StreamKernel::Copy, StreamKernel::Triad] {
            let rate = stream_bandwidth(kernel, 1 << 16, 2, 2).unwrap();
            assert!(rate.is_finite() && rate > 0.0, "{kernel:?}: {rate}");
        }
        assert!(stream_bandwidth(StreamKernel::Copy, 0, 1, 1).is_err());
        assert_eq!(StreamKernel::Triad.bytes_per_element(), 24);
    }

    #[test]
    fn the_read_kernel_sums_every_value() {
        let values: Vec<f64> = (0..1001).map(f64::from).collect();
        assert_eq!(read(&values), 500_500.0);
        assert_eq!(read(&[]), 0.0);
    }
}
