//! `memit`: IPython's `%memit`, plus allocation counts that hold across evcxr cells.
//!
//! evcxr links `hpr` into every cell separately, so every cell has its own copy of each static
//! and of the counting allocator. A per-cell counter would miss allocations made by functions
//! from earlier cells. Instead, the first copy allocates one counter block with `calloc` and
//! publishes its address in the environment variable [`COUNTERS_ENV`]; every other copy (every
//! cell) adopts the same block, so all allocations of the process are counted in one place.

use crate::error::{HprError, Result};
use crate::guard::catch_panics;
use crate::html::{display_in_jupyter, format_bytes, format_duration, notes_html, Table};
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, Ordering};
use std::time::Instant;

/// The environment variable through which all copies of `hpr` in a process share one set of
/// allocation counters.
pub const COUNTERS_ENV: &str = "HPR_ALLOCATION_COUNTERS";

/// Process-wide allocation counters; one instance per process, never freed.
#[repr(C)]
struct SharedCounters {
    /// Held by the one `memit` call that owns the counters.
    busy: AtomicBool,
    /// Whether allocations are being counted right now.
    active: AtomicBool,
    allocations: AtomicU64,
    deallocations: AtomicU64,
    reallocations: AtomicU64,
    bytes_allocated: AtomicU64,
    bytes_copied: AtomicU64,
    live_bytes: AtomicI64,
    peak_live_bytes: AtomicI64,
}

/// This copy's pointer to the shared block (null until the first allocation).
static SHARED: AtomicPtr<SharedCounters> = AtomicPtr::new(std::ptr::null_mut());
/// Serialises the adopt-or-create step within this copy.
static ATTACHING: AtomicBool = AtomicBool::new(false);

/// Finds the process's counter block, creating and publishing it if no copy has yet.
///
/// Runs inside the allocator, so it must not allocate through Rust: it uses `getenv`, `calloc`
/// and `setenv` from libc, which allocate (if at all) with malloc directly.
fn shared() -> Option<&'static SharedCounters> {
    let existing = SHARED.load(Ordering::Acquire);
    if !existing.is_null() {
        // SAFETY: the block is allocated once per process and never freed.
        return Some(unsafe { &*existing });
    }
    if ATTACHING.swap(true, Ordering::Acquire) {
        return None; // another thread of this copy is attaching; skip counting this one
    }
    let block = attach();
    SHARED.store(block, Ordering::Release);
    ATTACHING.store(false, Ordering::Release);
    // SAFETY: as above; `attach` returns null only if calloc failed.
    unsafe { block.as_ref() }
}

#[cfg(unix)]
fn attach() -> *mut SharedCounters {
    let name = c"HPR_ALLOCATION_COUNTERS";
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as usize;
    // SAFETY: getenv returns null or a NUL-terminated string owned by the environment.
    let published = unsafe { libc::getenv(name.as_ptr()) };
    if !published.is_null() {
        // SAFETY: as above.
        let text = unsafe { std::ffi::CStr::from_ptr(published) }.to_bytes();
        // The value is "<pid>:<address>" in hex. Child processes inherit the environment, so
        // an address published by another process (the parent) must not be adopted.
        if let Some((owner, address)) = split_published(text) {
            if owner == pid {
                return address as *mut SharedCounters;
            }
        }
    }
    // SAFETY: calloc returns zeroed memory, a valid bit pattern for these atomics.
    let block = unsafe { libc::calloc(1, std::mem::size_of::<SharedCounters>()) };
    if block.is_null() {
        return std::ptr::null_mut();
    }
    let mut text = [0u8; 48];
    let end = format_hex(pid, &mut text, 0);
    text[end] = b':';
    let end = format_hex(block as usize, &mut text, end + 1);
    text[end] = 0;
    // SAFETY: both strings are NUL-terminated; setenv copies them.
    unsafe { libc::setenv(name.as_ptr(), text.as_ptr().cast(), 1) };
    block.cast()
}

/// Splits "<pid>:<address>" (both hex) without allocating.
fn split_published(text: &[u8]) -> Option<(usize, usize)> {
    let colon = text.iter().position(|&b| b == b':')?;
    Some((parse_hex(&text[..colon])?, parse_hex(&text[colon + 1..])?))
}

#[cfg(not(unix))]
fn attach() -> *mut SharedCounters {
    static LOCAL: SharedCounters = SharedCounters {
        busy: AtomicBool::new(false),
        active: AtomicBool::new(false),
        allocations: AtomicU64::new(0),
        deallocations: AtomicU64::new(0),
        reallocations: AtomicU64::new(0),
        bytes_allocated: AtomicU64::new(0),
        bytes_copied: AtomicU64::new(0),
        live_bytes: AtomicI64::new(0),
        peak_live_bytes: AtomicI64::new(0),
    };
    &LOCAL as *const SharedCounters as *mut SharedCounters
}

/// Parses `0x`-less lowercase hex without allocating.
fn parse_hex(text: &[u8]) -> Option<usize> {
    if text.is_empty() || text.len() > 16 {
        return None;
    }
    let mut value = 0usize;
    for &digit in text {
        let nibble = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => return None,
        };
        value = (value << 4) | usize::from(nibble);
    }
    (value != 0).then_some(value)
}

/// Writes `value` as lowercase hex into `out` from `start`, without allocating; returns the
/// index just past the last digit.
fn format_hex(mut value: usize, out: &mut [u8; 48], start: usize) -> usize {
    let mut digits = [0u8; 16];
    let mut count = 0;
    loop {
        digits[count] = b"0123456789abcdef"[value & 15];
        count += 1;
        value >>= 4;
        if value == 0 {
            break;
        }
    }
    for index in 0..count {
        out[start + index] = digits[count - 1 - index];
    }
    start + count
}

/// The global allocator that `hpr` installs (feature `count-allocations`, on by default): the
/// system allocator, counting while a [`memit`] measurement is active.
pub struct CountingAllocator;

impl CountingAllocator {
    #[inline]
    fn record(change: i64, counter: fn(&SharedCounters) -> &AtomicU64, bytes: u64) {
        let Some(counters) = shared() else { return };
        if !counters.active.load(Ordering::Relaxed) {
            return;
        }
        counter(counters).fetch_add(1, Ordering::Relaxed);
        counters.bytes_allocated.fetch_add(bytes, Ordering::Relaxed);
        let live = counters.live_bytes.fetch_add(change, Ordering::Relaxed) + change;
        counters.peak_live_bytes.fetch_max(live, Ordering::Relaxed);
    }

    #[inline]
    fn counted_allocation(pointer: *mut u8, layout: Layout) -> *mut u8 {
        if !pointer.is_null() {
            let size = layout.size();
            Self::record(size as i64, |c| &c.allocations, size as u64);
        }
        pointer
    }

    #[inline]
    fn record_copy(bytes: u64) {
        if let Some(counters) = shared() {
            if counters.active.load(Ordering::Relaxed) {
                counters.bytes_copied.fetch_add(bytes, Ordering::Relaxed);
            }
        }
    }
}

// SAFETY: every method forwards to `System` unchanged; counting has no effect on the memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        Self::counted_allocation(unsafe { System.alloc(layout) }, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        Self::counted_allocation(unsafe { System.alloc_zeroed(layout) }, layout)
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(pointer, layout) };
        Self::record(-(layout.size() as i64), |c| &c.deallocations, 0);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            let grown = new_size as i64 - layout.size() as i64;
            // A reallocation requests its whole new size; when the block moved, the allocator
            // copied the old contents (up to the smaller size) to the new place.
            Self::record(grown, |c| &c.reallocations, new_size as u64);
            if moved != pointer {
                Self::record_copy(layout.size().min(new_size) as u64);
            }
        }
        moved
    }
}

#[cfg(feature = "count-allocations")]
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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
    /// Bytes copied by reallocations that had to move their block (growing a `Vec` that could
    /// not grow in place copies its old contents).
    pub bytes_copied: Option<u64>,
    /// Wall time of the call, in seconds.
    pub seconds: f64,
}

/// Measures the memory that `work` uses: peak RSS, peak heap, allocation counts and bytes.
///
/// The result of `work` is dropped after the measurement, so memory it holds counts as retained.
/// Allocations by functions defined in earlier evcxr cells are counted too (see the module docs).
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
            &counters.bytes_copied,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
        counters.live_bytes.store(0, Ordering::SeqCst);
        counters.peak_live_bytes.store(0, Ordering::SeqCst);
    }
    crate::guard::prepare();
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
            load(&c.bytes_copied),
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
        bytes_copied: snapshot.map(|s| s.5),
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

impl MemoryUsage {
    fn rows(&self) -> Vec<(&'static str, String)> {
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
                "bytes copied by moving reallocations",
                bytes_or_unsupported(self.bytes_copied.map(|b| b as i64)),
            ),
            ("time", format_duration(self.seconds)),
        ]
    }

    /// An HTML table of the measurements.
    pub fn to_html(&self) -> String {
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
    pub fn to_csv(&self) -> String {
        let field = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let count = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        format!(
            "measure,value\npeak_rss_increase,{}\npeak_heap_increase,{}\nretained_heap,{}\n\
             allocations,{}\nreallocations,{}\ndeallocations,{}\nbytes_allocated,{}\nbytes_copied,{}\n\
             seconds,{}\n",
            field(self.peak_rss_increase),
            field(self.peak_heap_increase),
            field(self.retained_heap),
            count(self.allocations),
            count(self.reallocations),
            count(self.deallocations),
            count(self.bytes_allocated),
            count(self.bytes_copied),
            self.seconds
        )
    }
}

/// Several [`MemoryUsage`] results side by side, one column each: a cell shows only its last
/// value, so comparisons of allocation strategies go in one table.
///
/// ```
/// let small = hpr::memit_named("small", || vec![0u8; 10]).unwrap();
/// let large = hpr::memit_named("large", || vec![0u8; 1000]).unwrap();
/// let table = hpr::MemoryTable::new(vec![small, large]);
/// assert!(table.to_html().contains("large"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryTable {
    /// The results, in column order.
    pub results: Vec<MemoryUsage>,
}

impl MemoryTable {
    /// A table of `results`.
    pub fn new(results: Vec<MemoryUsage>) -> MemoryTable {
        MemoryTable { results }
    }

    /// The table, one row per measure and one column per result.
    pub fn to_html(&self) -> String {
        let mut header = vec!["measure"];
        header.extend(self.results.iter().map(|r| r.name.as_str()));
        let mut table = Table::new("memory", &header);
        let columns: Vec<Vec<(&'static str, String)>> =
            self.results.iter().map(MemoryUsage::rows).collect();
        if let Some(first) = columns.first() {
            for (index, (label, _)) in first.iter().enumerate() {
                let mut row = vec![(*label).to_owned()];
                row.extend(columns.iter().map(|column| column[index].1.clone()));
                table.row(row);
            }
        }
        table.to_html()
    }
}

display_in_jupyter!(MemoryTable);

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

display_in_jupyter!(MemoryUsage);

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn published_values_round_trip_without_allocating() {
        let mut text = [0u8; 48];
        let end = format_hex(0x1f2e, &mut text, 0);
        text[end] = b':';
        let end = format_hex(0x7f12_3456_789a, &mut text, end + 1);
        assert_eq!(&text[..end], b"1f2e:7f123456789a");
        assert_eq!(
            split_published(&text[..end]),
            Some((0x1f2e, 0x7f12_3456_789a))
        );
        assert_eq!(split_published(b"7f123456789a"), None);
        assert_eq!(parse_hex(b""), None);
        assert_eq!(parse_hex(b"xyz"), None);
        assert_eq!(parse_hex(b"0"), None);
    }

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
            bytes_copied: Some(0),
            seconds: 0.001,
        };
        assert!(usage.to_html().contains("unsupported here"));
        assert!(usage.to_csv().contains("peak_rss_increase,\n"));
        assert!(usage
            .to_string()
            .starts_with("x: peak RSS increase: unsupported here"));
    }
}
