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

/// Best-of-`repeats` bandwidth in bytes per second of `kernel` over arrays of `elements` f64
/// each, split over `threads` threads.
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
                    StreamKernel::Read => {
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
                    StreamKernel::Copy => b.copy_from_slice(a),
                    StreamKernel::Triad => {
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
}
