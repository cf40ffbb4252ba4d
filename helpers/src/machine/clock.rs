//! What the timer itself can resolve and costs, measured rather than assumed.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

/// The resolution and cost of `Instant::now()` on this machine.
///
/// Measured once per cell (each evcxr cell has its own copy of `hpr`'s statics) in about a
/// millisecond.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    /// Smallest non-zero step between two readings, in seconds.
    pub resolution: f64,
    /// Cost of one reading, in seconds; subtracted from every measured batch.
    pub overhead: f64,
}

impl Clock {
    /// The clock's properties, measured on first use.
    pub fn get() -> Clock {
        static CLOCK: OnceLock<Clock> = OnceLock::new();
        *CLOCK.get_or_init(Clock::measure)
    }

    fn measure() -> Clock {
        let mut resolution = f64::INFINITY;
        for _ in 0..200 {
            let first = Instant::now();
            let mut next = Instant::now();
            while next == first {
                next = Instant::now();
            }
            resolution = resolution.min((next - first).as_secs_f64());
        }
        const READINGS: u32 = 20_000;
        let start = Instant::now();
        for _ in 0..READINGS {
            black_box(Instant::now());
        }
        let overhead = start.elapsed().as_secs_f64() / f64::from(READINGS);
        Clock {
            resolution,
            overhead,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_and_overhead_are_measured() {
        let clock = Clock::get();
        // Positive and finite; how small they are depends on the machine and its load.
        assert!(
            clock.resolution > 0.0 && clock.resolution.is_finite(),
            "{clock:?}"
        );
        assert!(
            clock.overhead > 0.0 && clock.overhead.is_finite(),
            "{clock:?}"
        );
    }
}
