//! Memory latency: how long one dependent load takes at a given working-set size.

use crate::data::rng::random_cycle;
use crate::error::{HprError, Result};
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
/// assert!(seconds > 0.0);
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
    // One single random cycle through every node, so no shorter loop stays in a cache.
    for (node, next) in random_cycle(0x2545_F491, nodes).into_iter().enumerate() {
        memory[node * stride] = next * stride;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chase_takes_time_and_rejects_empty_walks() {
        // How much slower memory is than a cache is a claim for a notebook, not a unit test.
        let seconds = pointer_chase_latency(16 * 1024, 100_000).unwrap();
        assert!(seconds.is_finite() && seconds > 0.0, "{seconds}");
        assert!(pointer_chase_latency(64, 10).is_err());
        assert!(pointer_chase_latency(4096, 0).is_err());
    }
}
