//! The counting allocator, and why its counters are found through the environment.
//!
//! evcxr links `hpr` into every cell separately, so every cell has its own copy of each static
//! and of the counting allocator. A per-cell counter would miss allocations made by functions
//! from earlier cells. Instead, the first copy allocates one counter block with `calloc` and
//! publishes its address in the environment variable [`COUNTERS_ENV`]; every other copy (every
//! cell) adopts the same block, so all allocations of the process are counted in one place.
//!
//! Why the environment, when `hpr` avoids it elsewhere (the measured limits go through a file):
//! the block must be found from inside `GlobalAlloc::alloc`, before anything else has run, and
//! without allocating. The cells' libraries are loaded with their symbols private to each
//! (`RTLD_LOCAL`), so no static can be shared by name; a file would need its path and contents
//! read without allocating, on every first allocation of every cell. `getenv` is the one
//! process-wide, allocation-free lookup every copy can reach. The risk of the environment is
//! `setenv` racing a `getenv` on another thread; it is contained by three guards:
//! - the variable is written once per process, by the first copy, at its first allocation,
//!   which is the setup cell's, before notebook code has started any thread;
//! - later copies only read it, and never write it again;
//! - the value carries the owning process id, so a child process that inherits the
//!   environment creates its own block instead of adopting an address that is not its own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, Ordering};

/// The environment variable through which all copies of `hpr` in a process share one set of
/// allocation counters.
pub const COUNTERS_ENV: &str = "HPR_ALLOCATION_COUNTERS";

/// Process-wide allocation counters; one instance per process, never freed.
#[repr(C)]
pub(super) struct SharedCounters {
    /// Held by the one `memit` call that owns the counters.
    pub(super) busy: AtomicBool,
    /// Whether allocations are being counted right now.
    pub(super) active: AtomicBool,
    pub(super) allocations: AtomicU64,
    pub(super) deallocations: AtomicU64,
    pub(super) reallocations: AtomicU64,
    pub(super) bytes_allocated: AtomicU64,
    pub(super) bytes_in_moved_blocks: AtomicU64,
    pub(super) live_bytes: AtomicI64,
    pub(super) peak_live_bytes: AtomicI64,
}

/// This copy's pointer to the shared block (null until the first allocation).
static SHARED: AtomicPtr<SharedCounters> = AtomicPtr::new(std::ptr::null_mut());
/// Serialises the adopt-or-create step within this copy.
static ATTACHING: AtomicBool = AtomicBool::new(false);

/// Finds the process's counter block, creating and publishing it if no copy has yet.
///
/// Runs inside the allocator, so it must not allocate through Rust: it uses `getenv`, `calloc`
/// and `setenv` from libc, which allocate (if at all) with malloc directly.
pub(super) fn shared() -> Option<&'static SharedCounters> {
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
        bytes_in_moved_blocks: AtomicU64::new(0),
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
/// system allocator, counting while a [`memit`](crate::memit) measurement is active.
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
    fn record_move(bytes: u64) {
        if let Some(counters) = shared() {
            if counters.active.load(Ordering::Relaxed) {
                counters
                    .bytes_in_moved_blocks
                    .fetch_add(bytes, Ordering::Relaxed);
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
            // A reallocation requests its whole new size. When the block moved, its old contents
            // (up to the smaller size) are now elsewhere: copied, or for large blocks remapped.
            Self::record(grown, |c| &c.reallocations, new_size as u64);
            if moved != pointer {
                Self::record_move(layout.size().min(new_size) as u64);
            }
        }
        moved
    }
}

#[cfg(feature = "count-allocations")]
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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
}
