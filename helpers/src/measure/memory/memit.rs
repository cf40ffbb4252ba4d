//! `memit`: what one call does to memory, IPython's `%memit` plus allocation counts.

use super::allocator::shared;
use crate::error::{HprError, Result};
use crate::processes::guard::{catch_panics, prepare};
use crate::render::html::{notes_html, Table};
use crate::render::units::{format_bytes, format_duration};
use crate::render::Render;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What one call did to memory: the result of [`memit`].
///
/// Fields are `None` where this platform or build cannot measure them; the HTML and text output
/// say "unsupported" there rather than showing a zero.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryUsage {
    /// A name for the measured code, or empty.
    pub name: String,
    /// Increase of the resident set's high-water mark during the call (Linux `VmHWM`, reset
    /// before the call through `/proc/self/clear_refs`), in bytes: what `%memit` calls increment.
    pub peak_rss_increase: Option<i64>,
    /// Resident set size before the call, in bytes.
    pub rss_before: Option<i64>,
    /// Highest heap growth during the call over its start, in bytes (counting allocator).
    pub peak_heap_increase: Option<i64>,
    /// Heap still held when the call returned (its result included), in bytes, by glibc's
    /// `mallinfo2`, which sees every allocation in the process whatever allocated it.
    pub retained_heap: Option<i64>,
    /// Calls to `alloc`/`alloc_zeroed` during the call.
    pub allocations: Option<u64>,
    /// Calls to `realloc` during the call (a `Vec` growing in place or moving).
    pub reallocations: Option<u64>,
    /// Calls to `dealloc` during the call.
    pub deallocations: Option<u64>,
    /// Bytes requested by allocations and reallocations (each counts its full new size), so
    /// growing a `Vec` by doubling to n bytes shows about 2n.
    pub bytes_allocated: Option<u64>,
    /// Bytes in blocks that a reallocation moved to a new address. This is what the allocator
    /// can know, not how many bytes were copied: glibc copies a small block with `memcpy`, but
    /// moves a large one (served by `mmap`, 128 KiB and up by default) with `mremap`, which
    /// remaps its pages and copies nothing. A block that grows in place is not counted.
    pub bytes_in_moved_blocks: Option<u64>,
    /// Wall time of the call, in seconds.
    pub seconds: f64,
}

/// Measures the memory that `work` uses: peak RSS, peak heap, allocation counts and bytes.
///
/// The result of `work` is dropped after the measurement, so memory it holds counts as retained.
/// Allocations by functions defined in earlier evcxr cells are counted too (see the module docs).
///
/// Not counted: allocations made inside the standard library's own compiled code. evcxr builds
/// cells with `-C prefer-dynamic`, so non-generic std functions such as `fs::read_to_string`
/// run inside `libstd.so`, which allocates through its own default allocator, not `hpr`'s.
/// Their memory still shows in `peak_rss_increase` and `retained_heap` (glibc sees every
/// allocation); for counts, allocate the buffer in your code (`String::with_capacity`, then
/// `Read::read_to_string`). Generic std code (`Vec`, `String`, collections) is compiled into
/// the cell and counted.
///
/// ```
/// let usage = hpr::memit(|| vec![0u8; 1 << 20]).unwrap();
/// assert_eq!(usage.allocations, Some(1));
/// assert!(usage.peak_heap_increase.unwrap() >= 1 << 20);
/// ```
pub fn memit<R>(work: impl FnOnce() -> R) -> Result<MemoryUsage> {
    memit_named("", work)
}

/// [`memit`] with a name shown in the result.
pub fn memit_named<R>(name: &str, work: impl FnOnce() -> R) -> Result<MemoryUsage> {
    let counters = if cfg!(feature = "count-allocations") {
        shared()
    } else {
        None
    };
    if let Some(counters) = counters {
        if counters.busy.swap(true, Ordering::SeqCst) {
            return Err(HprError::invalid(
                "work",
                "memit is already measuring: calls cannot be nested or run on two threads at once",
            ));
        }
        for counter in [
            &counters.allocations,
            &counters.deallocations,
            &counters.reallocations,
            &counters.bytes_allocated,
            &counters.bytes_in_moved_blocks,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
        counters.live_bytes.store(0, Ordering::SeqCst);
        counters.peak_live_bytes.store(0, Ordering::SeqCst);
    }
    prepare();
    let peak_reset = reset_peak_rss();
    let rss_before = read_status_kib("VmRSS:").map(|kib| kib * 1024);
    let heap_before = heap_in_use();
    if let Some(counters) = counters {
        counters.active.store(true, Ordering::SeqCst);
    }
    let started = Instant::now();
    let outcome = catch_panics(work);
    let seconds = started.elapsed().as_secs_f64();
    if let Some(counters) = counters {
        counters.active.store(false, Ordering::SeqCst);
    }
    let heap_after = heap_in_use();
    let peak_after = read_status_kib("VmHWM:").map(|kib| kib * 1024);
    let snapshot = counters.map(|c| {
        let load = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        (
            c.peak_live_bytes.load(Ordering::SeqCst),
            load(&c.allocations),
            load(&c.reallocations),
            load(&c.deallocations),
            load(&c.bytes_allocated),
            load(&c.bytes_in_moved_blocks),
        )
    });
    if let Some(counters) = counters {
        counters.busy.store(false, Ordering::SeqCst);
    }
    drop(outcome?);
    Ok(MemoryUsage {
        name: name.to_owned(),
        peak_rss_increase: match (peak_reset, rss_before, peak_after) {
            (true, Some(before), Some(peak)) => Some((peak - before).max(0)),
            _ => None,
        },
        rss_before,
        peak_heap_increase: snapshot.map(|s| s.0),
        retained_heap: heap_before
            .zip(heap_after)
            .map(|(before, after)| after - before),
        allocations: snapshot.map(|s| s.1),
        reallocations: snapshot.map(|s| s.2),
        deallocations: snapshot.map(|s| s.3),
        bytes_allocated: snapshot.map(|s| s.4),
        bytes_in_moved_blocks: snapshot.map(|s| s.5),
        seconds,
    })
}

/// Resets the resident set's high-water mark (Linux 4.0+); false where that is not possible.
fn reset_peak_rss() -> bool {
    cfg!(target_os = "linux") && std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Reads a `kB` field such as `VmRSS:` from `/proc/self/status`.
fn read_status_kib(field: &str) -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_kib(&status, field)
}

fn parse_status_kib(status: &str, field: &str) -> Option<i64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Bytes the C heap has handed out (small-block arenas plus mmapped blocks), glibc only.
fn heap_in_use() -> Option<i64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads allocator statistics.
        let info = unsafe { libc::mallinfo2() };
        Some((info.uordblks + info.hblkhd) as i64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

fn bytes_or_unsupported(value: Option<i64>) -> String {
    value.map_or_else(|| "unsupported here".to_owned(), format_bytes)
}

fn count_or_unsupported(value: Option<u64>) -> String {
    value.map_or_else(|| "unsupported here".to_owned(), |n| n.to_string())
}

/// Why the counting allocator's numbers are missing, for the accessors' errors.
const NOT_COUNTED: &str = "hpr's counting allocator is not installed in this build (feature \
                           `count-allocations`, on by default), so allocations were not counted";
/// Why the resident set's numbers are missing.
const NO_PROC: &str = "the resident set is read from Linux's /proc/self/status and clear_refs, \
                       which this system does not offer";

/// The value of a measure, or an error saying why this build or system could not take it.
fn measured<T>(value: Option<T>, what: &'static str, reason: &str) -> Result<T> {
    value.ok_or_else(|| HprError::Unsupported {
        what,
        reason: reason.to_owned(),
    })
}

/// Each field as a number, or an error saying why it was not measured: a notebook writes
/// `usage.peak_heap_increase()?` and never reads an unmeasured field as zero.
///
/// ```
/// let usage = hpr::memit(|| vec![0u64; 1000]).unwrap();
/// assert_eq!(usage.allocations().unwrap(), 1);
/// assert!(usage.peak_heap_increase().unwrap() >= 8000);
/// let unmeasured = hpr::MemoryUsage { allocations: None, ..usage };
/// assert!(unmeasured.allocations().unwrap_err().to_string().contains("count-allocations"));
/// ```
impl MemoryUsage {
    /// The `peak_rss_increase` field, in bytes.
    pub fn peak_rss_increase(&self) -> Result<i64> {
        measured(self.peak_rss_increase, "peak_rss_increase", NO_PROC)
    }

    /// The `peak_heap_increase` field, in bytes.
    pub fn peak_heap_increase(&self) -> Result<i64> {
        measured(self.peak_heap_increase, "peak_heap_increase", NOT_COUNTED)
    }

    /// The `retained_heap` field, in bytes.
    pub fn retained_heap(&self) -> Result<i64> {
        measured(
            self.retained_heap,
            "retained_heap",
            "the heap in use is read with glibc's mallinfo2, which this system does not offer",
        )
    }

    /// The `allocations` field.
    pub fn allocations(&self) -> Result<u64> {
        measured(self.allocations, "allocations", NOT_COUNTED)
    }

    /// The `reallocations` field.
    pub fn reallocations(&self) -> Result<u64> {
        measured(self.reallocations, "reallocations", NOT_COUNTED)
    }

    /// The `deallocations` field.
    pub fn deallocations(&self) -> Result<u64> {
        measured(self.deallocations, "deallocations", NOT_COUNTED)
    }

    /// The `bytes_allocated` field.
    pub fn bytes_allocated(&self) -> Result<u64> {
        measured(self.bytes_allocated, "bytes_allocated", NOT_COUNTED)
    }

    /// The `bytes_in_moved_blocks` field.
    pub fn bytes_in_moved_blocks(&self) -> Result<u64> {
        measured(
            self.bytes_in_moved_blocks,
            "bytes_in_moved_blocks",
            NOT_COUNTED,
        )
    }
}

impl MemoryUsage {
    /// The measures as raw numbers (bytes, counts, seconds), empty where unsupported.
    pub(super) fn raw_values(&self) -> [(&'static str, String); 9] {
        let bytes = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let count = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            ("peak_rss_increase", bytes(self.peak_rss_increase)),
            ("peak_heap_increase", bytes(self.peak_heap_increase)),
            ("retained_heap", bytes(self.retained_heap)),
            ("allocations", count(self.allocations)),
            ("reallocations", count(self.reallocations)),
            ("deallocations", count(self.deallocations)),
            ("bytes_allocated", count(self.bytes_allocated)),
            ("bytes_in_moved_blocks", count(self.bytes_in_moved_blocks)),
            ("seconds", self.seconds.to_string()),
        ]
    }

    pub(super) fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "peak RSS increase",
                bytes_or_unsupported(self.peak_rss_increase),
            ),
            (
                "peak heap increase",
                bytes_or_unsupported(self.peak_heap_increase),
            ),
            ("heap retained", bytes_or_unsupported(self.retained_heap)),
            ("allocations", count_or_unsupported(self.allocations)),
            ("reallocations", count_or_unsupported(self.reallocations)),
            ("deallocations", count_or_unsupported(self.deallocations)),
            (
                "bytes allocated",
                bytes_or_unsupported(self.bytes_allocated.map(|b| b as i64)),
            ),
            (
                "bytes in blocks realloc moved",
                bytes_or_unsupported(self.bytes_in_moved_blocks.map(|b| b as i64)),
            ),
            ("time", format_duration(self.seconds)),
        ]
    }
}

impl Render for MemoryUsage {
    /// An HTML table of the measurements.
    fn to_html(&self) -> String {
        let caption = if self.name.is_empty() {
            "memit"
        } else {
            &self.name
        };
        let mut table = Table::new(caption, &["measure", "value"]);
        for (label, value) in self.rows() {
            table.row(vec![label.into(), value]);
        }
        let note = format!(
            "RSS before: {}. Peak heap and counts come from hpr's counting allocator; retained \
             heap from glibc mallinfo2.",
            bytes_or_unsupported(self.rss_before)
        );
        format!("<div>{}{}</div>", table.to_html(), notes_html(&[note]))
    }

    /// `measure,value` CSV with raw numbers (empty where unsupported).
    fn to_csv(&self) -> String {
        let mut csv = String::from("measure,value\n");
        for (measure, value) in self.raw_values() {
            csv.push_str(&format!("{measure},{value}\n"));
        }
        csv
    }
}

impl fmt::Display for MemoryUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .rows()
            .into_iter()
            .map(|(label, value)| format!("{label}: {value}"))
            .collect();
        if !self.name.is_empty() {
            write!(f, "{}: ", self.name)?;
        }
        write!(f, "{}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status_fields() {
        let status = "Name:\tcat\nVmHWM:\t    1234 kB\nVmRSS:\t  1000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(1234));
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(1000));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn renders_unsupported_fields_honestly() {
        let usage = MemoryUsage {
            name: "x".into(),
            peak_rss_increase: None,
            rss_before: None,
            peak_heap_increase: Some(10),
            retained_heap: None,
            allocations: Some(1),
            reallocations: Some(0),
            deallocations: Some(0),
            bytes_allocated: Some(10),
            bytes_in_moved_blocks: Some(0),
            seconds: 0.001,
        };
        assert!(usage.to_html().contains("unsupported here"));
        assert!(usage.to_csv().contains("peak_rss_increase,\n"));
        assert!(usage
            .to_string()
            .starts_with("x: peak RSS increase: unsupported here"));
    }
}
