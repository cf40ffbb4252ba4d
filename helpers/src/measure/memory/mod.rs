//! Memory: what a call allocates and how far the process grows, across evcxr's cells.

mod allocator;
mod memit;
mod table;

pub use allocator::{CountingAllocator, COUNTERS_ENV};
pub use memit::{memit, memit_named, MemoryUsage};
pub use table::MemoryTable;
