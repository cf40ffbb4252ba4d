//! Throughput: the work one call does, turned into a rate and set against the machine's limit.
//!
//! A time alone does not say whether code is fast: 10 ms is slow for summing a kilobyte and
//! fast for multiplying two large matrices. Given the work per call (bytes moved, floating-point
//! operations, items), a result shows the rate (GB/s, GFLOP/s, items/s) and, where
//! [`limits`](crate::limits) has a matching ceiling, the share of it that the code reached.

use crate::error::{HprError, Result};
use crate::machine::limits::{limits, StreamKernel, Threads};
use crate::render::units::{format_percent, format_rate};
use std::fmt;

/// What a rate counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkUnit {
    /// Bytes read plus bytes written.
    Bytes,
    /// Floating-point operations (a fused multiply-add counts as two).
    Flops,
    /// Any countable item: rows, keys, pixels, requests.
    Items,
}

impl WorkUnit {
    /// The unit as rates show it (`GB/s`, `GFLOP/s`, `Gitems/s`).
    pub fn symbol(self) -> &'static str {
        match self {
            WorkUnit::Bytes => "B",
            WorkUnit::Flops => "FLOP",
            WorkUnit::Items => "items",
        }
    }
}

/// The rate a [`Work`] is measured against.
#[derive(Debug, Clone, PartialEq)]
pub enum Ceiling {
    /// No ceiling: the rate is shown alone.
    None,
    /// The bandwidth of one STREAM kernel at the work's working set (see
    /// [`Limits::bandwidth_at`](crate::Limits::bandwidth_at)): a cache's bandwidth for work that
    /// fits in it, the memory's measured by [`limits`] for work that does not.
    Bandwidth(StreamKernel, Threads),
    /// The peak FLOP/s measured by [`limits`].
    PeakFlops(Threads),
    /// A rate measured elsewhere, e.g. [`stream_bandwidth`](crate::stream_bandwidth) at the
    /// size of the data, for work that fits in a cache.
    Measured {
        /// What the rate is, as the table shows it: "copy bandwidth at 3.1 MiB".
        label: String,
        /// The rate in units per second.
        per_second: f64,
    },
}

impl Ceiling {
    /// A rate measured elsewhere, named as the table shows it: [`Ceiling::Measured`] in one call.
    ///
    /// ```
    /// use hpr::Ceiling;
    /// let ceiling = Ceiling::measured("copy bandwidth at 3.1 MiB", 2e10);
    /// assert_eq!(
    ///     ceiling,
    ///     Ceiling::Measured { label: "copy bandwidth at 3.1 MiB".into(), per_second: 2e10 }
    /// );
    /// ```
    pub fn measured(label: impl Into<String>, per_second: f64) -> Ceiling {
        Ceiling::Measured {
            label: label.into(),
            per_second,
        }
    }
}

/// The work one call does: how much, of what, and against which ceiling.
///
/// ```
/// use hpr::prelude::*;
/// let data = vec![1.0f64; 1 << 16];
/// let timing = Timeit::new()
///     .budget(Duration::from_millis(100))
///     .work(Work::bytes(8 << 16).against(Ceiling::measured("1 TB/s", 1e12)))
///     .run(|| data.iter().sum::<f64>())?;
/// let throughput = timing.throughput.as_ref().unwrap();
/// assert!(throughput.per_second > 0.0);
/// assert_eq!(throughput.share(), Some(throughput.per_second / 1e12));
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    /// How much per call.
    pub amount: f64,
    /// Of what.
    pub unit: WorkUnit,
    /// What the rate is set against.
    pub ceiling: Ceiling,
    /// The bytes the work touches, all its arrays together: a bandwidth ceiling is measured at
    /// this size. [`Work::bytes`] takes its amount (one pass over the data); set it with
    /// [`Work::working_set`] when a call passes over its data more than once.
    pub working_set: Option<u64>,
}

impl Work {
    /// `bytes` read plus written per call, against the one-thread copy bandwidth (a copy both
    /// reads and writes, so its bandwidth counts the same bytes).
    pub fn bytes(bytes: u64) -> Work {
        Work {
            amount: bytes as f64,
            unit: WorkUnit::Bytes,
            ceiling: Ceiling::Bandwidth(StreamKernel::Copy, Threads::One),
            working_set: Some(bytes),
        }
    }

    /// Floating-point operations per call, against the one-thread peak FLOP/s.
    pub fn flops(flops: u64) -> Work {
        Work {
            amount: flops as f64,
            unit: WorkUnit::Flops,
            ceiling: Ceiling::PeakFlops(Threads::One),
            working_set: None,
        }
    }

    /// Items per call, with no ceiling.
    pub fn items(items: u64) -> Work {
        Work {
            amount: items as f64,
            unit: WorkUnit::Items,
            ceiling: Ceiling::None,
            working_set: None,
        }
    }

    /// The same work set against another ceiling.
    pub fn against(mut self, ceiling: Ceiling) -> Work {
        self.ceiling = ceiling;
        self
    }

    /// The same work over a working set of `bytes` (all its arrays together), where the
    /// bandwidth ceiling is measured: e.g. 100 steps over two 2 MiB grids move 400 MiB per call
    /// from a 4 MiB working set, which the last-level cache may hold.
    ///
    /// ```
    /// use hpr::Work;
    /// assert_eq!(Work::bytes(400 << 20).working_set, Some(400 << 20));
    /// assert_eq!(Work::bytes(400 << 20).working_set(4 << 20).working_set, Some(4 << 20));
    /// ```
    pub fn working_set(mut self, bytes: u64) -> Work {
        self.working_set = Some(bytes);
        self
    }

    /// The same work with its rate shown alone: for bytes or FLOPs that no measured limit
    /// bounds (data crossing a pipe, say). [`Work::items`] has no ceiling to begin with.
    ///
    /// ```
    /// use hpr::{Ceiling, Work};
    /// assert_eq!(Work::bytes(64).without_ceiling().ceiling, Ceiling::None);
    /// assert_eq!(Work::items(64).ceiling, Ceiling::None);
    /// ```
    pub fn without_ceiling(self) -> Work {
        self.against(Ceiling::None)
    }

    /// The throughput of this work done in `seconds_per_call`; a ceiling from [`limits`] is
    /// measured on first use in a kernel (a few seconds) and reused afterwards.
    pub fn throughput(&self, seconds_per_call: f64) -> Throughput {
        let ceiling = match &self.ceiling {
            Ceiling::None => None,
            Ceiling::Bandwidth(kernel, threads) => {
                limits().bandwidth_at(*kernel, *threads, self.working_set.unwrap_or(u64::MAX))
            }
            Ceiling::PeakFlops(threads) => {
                let limits = limits();
                let peak = limits.peak_flops(*threads);
                Some((format!("peak FLOP/s, {}", threads.describe(&limits)), peak))
            }
            Ceiling::Measured { label, per_second } => Some((label.clone(), *per_second)),
        };
        Throughput {
            per_second: self.amount / seconds_per_call,
            unit: self.unit,
            ceiling,
        }
    }
}

/// A measured rate, and the ceiling it is set against where there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    /// Units of work per second.
    pub per_second: f64,
    /// What the work counts.
    pub unit: WorkUnit,
    /// The ceiling's name and rate (units per second).
    pub ceiling: Option<(String, f64)>,
}

/// How far a rate may run above its ceiling and still be read as reaching it: both are
/// measurements, each with a few percent of noise on a busy machine.
pub(crate) const CEILING_NOISE: f64 = 0.10;

impl Throughput {
    /// The rate as a fraction of the ceiling (0.82 is 82 %), never above 1: a rate above its
    /// ceiling by no more than its noise (10 %) reached it (1.0); one further above has no share,
    /// since the ceiling did not bound it (see [`Throughput::above_ceiling`]). `None` without a
    /// ceiling, too.
    ///
    /// ```
    /// use hpr::{Ceiling, Work};
    /// let work = Work::bytes(1_000).against(Ceiling::measured("1 kB/s", 1_000.0));
    /// assert_eq!(work.throughput(2.0).share(), Some(0.5));
    /// assert_eq!(work.throughput(0.95).share(), Some(1.0)); // 105 %: within the noise
    /// assert_eq!(work.throughput(0.5).share(), None); // 200 %: the ceiling is wrong
    /// assert!(work.throughput(0.5).above_ceiling());
    /// ```
    pub fn share(&self) -> Option<f64> {
        let ratio = self.ratio_to_ceiling()?;
        (ratio <= 1.0 + CEILING_NOISE).then_some(ratio.min(1.0))
    }

    /// Whether the rate exceeds its ceiling by more than the noise (10 %): the ceiling was
    /// measured too low (a busy machine, another working set) and should be measured again.
    pub fn above_ceiling(&self) -> bool {
        self.ratio_to_ceiling()
            .is_some_and(|ratio| ratio > 1.0 + CEILING_NOISE)
    }

    /// [`Throughput::share`] for a cell that reads it back: an `Unsupported` error that says
    /// why there is none (no ceiling, or a ceiling below the measurement) instead of `None`.
    ///
    /// ```
    /// use hpr::{Ceiling, Work};
    /// let work = Work::bytes(1_000).against(Ceiling::measured("1 kB/s", 1_000.0));
    /// assert_eq!(work.throughput(4.0).reached()?, 0.25);
    /// let error = work.throughput(0.5).reached().unwrap_err().to_string();
    /// assert!(error.contains("re-measure the limit"), "{error}");
    /// assert!(Work::items(3).throughput(1.0).reached().is_err());
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    pub fn reached(&self) -> Result<f64> {
        self.share().ok_or_else(|| HprError::Unsupported {
            what: "a share of the limit",
            reason: match self.ceiling {
                Some(_) => format!("{}: {}", self.rate(), self.share_text()),
                None => format!("{} was given no ceiling to be set against", self.rate()),
            },
        })
    }

    fn ratio_to_ceiling(&self) -> Option<f64> {
        self.ceiling
            .as_ref()
            .map(|(_, limit)| self.per_second / limit)
    }

    /// The rate as text: `12.3 GB/s`.
    pub fn rate(&self) -> String {
        format_rate(self.per_second, self.unit.symbol())
    }

    /// The share as text, `82.3% of copy bandwidth, 1 thread`; above the ceiling, what the
    /// ceiling was and that it needs measuring again; empty without a ceiling.
    pub fn share_text(&self) -> String {
        match (&self.ceiling, self.share()) {
            (Some((label, _)), Some(share)) => format!("{} of {label}", format_percent(share)),
            (Some((label, limit)), None) => format!(
                "ceiling below the measurement: re-measure the limit ({label}: {})",
                format_rate(*limit, self.unit.symbol())
            ),
            _ => String::new(),
        }
    }
}

/// The headers of the two columns a table of several results adds for their throughput.
pub(crate) const THROUGHPUT_COLUMNS: [&str; 2] = ["throughput", "share of the limit"];

/// A result's two throughput cells (rate, share of the limit): empty where no work was given.
pub(crate) fn throughput_cells(throughput: Option<&Throughput>) -> [String; 2] {
    match throughput {
        Some(t) => [t.rate(), t.share_text()],
        None => [String::new(), String::new()],
    }
}

impl fmt::Display for Throughput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ceiling {
            Some(_) => write!(f, "{} ({})", self.rate(), self.share_text()),
            None => write!(f, "{}", self.rate()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_shares_follow_from_the_time() {
        let ceiling = Ceiling::Measured {
            label: "test ceiling".into(),
            per_second: 2e9,
        };
        let throughput = Work::bytes(1_000_000).against(ceiling).throughput(1e-3);
        assert_eq!(throughput.per_second, 1e9);
        assert_eq!(throughput.share(), Some(0.5));
        assert_eq!(throughput.to_string(), "1.00 GB/s (50.0% of test ceiling)");
        let items = Work::items(3_000).throughput(1e-3);
        assert_eq!(items.to_string(), "3.00 Mitems/s");
        assert_eq!(items.share(), None);
    }

    #[test]
    fn a_share_is_never_above_one_and_a_beaten_ceiling_says_so() {
        // A simulated ceiling: the code moves 1 GB/s against a limit said to be 0.5 GB/s.
        let work = Work::bytes(1_000_000).against(Ceiling::measured("read bandwidth at 1 MB", 5e8));
        let beaten = work.throughput(1e-3);
        assert_eq!(beaten.share(), None);
        assert!(beaten.above_ceiling());
        assert_eq!(
            beaten.to_string(),
            "1.00 GB/s (ceiling below the measurement: re-measure the limit \
             (read bandwidth at 1 MB: 500 MB/s))"
        );
        // 8 % above: within the noise of two measurements, read as the limit reached.
        let reached = work.throughput(1e6 / 5.4e8);
        assert_eq!(reached.share(), Some(1.0));
        assert!(!reached.above_ceiling());
        let full = format!("({} of read bandwidth at 1 MB)", format_percent(1.0));
        assert!(reached.to_string().ends_with(&full), "{reached}");
    }

    #[test]
    fn each_unit_has_its_default_ceiling() {
        assert_eq!(
            Work::bytes(1).ceiling,
            Ceiling::Bandwidth(StreamKernel::Copy, Threads::One)
        );
        assert_eq!(Work::flops(1).ceiling, Ceiling::PeakFlops(Threads::One));
        assert_eq!(Work::items(1).ceiling, Ceiling::None);
        assert_eq!(Work::flops(2).unit.symbol(), "FLOP");
    }
}
