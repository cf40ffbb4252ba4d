//! Measuring: time, throughput, scaling, memory, the kernel's counters and where time goes.

pub(crate) mod compare;
pub(crate) mod comparison;
pub(crate) mod counters;
pub(crate) mod memory;
pub(crate) mod sampling;
pub(crate) mod scaling;
pub(crate) mod sections;
pub(crate) mod stats;
pub(crate) mod throughput;
pub(crate) mod timeit;
pub(crate) mod timing;

pub use compare::{candidate, compare, compare_with, Candidate};
pub use comparison::{Comparison, ComparisonRow};
pub use counters::{counters, software_counters_available, Counter, Counters};
pub use memory::{memit, memit_named, CountingAllocator, MemoryTable, MemoryUsage, COUNTERS_ENV};
pub use sampling::{profile, profile_with, FunctionShare, Profile, Stack};
pub use scaling::{scaling, scaling_with, Scaling};
pub use sections::Sections;
pub use stats::{percentile, Summary};
pub use throughput::{Ceiling, Throughput, Work, WorkUnit};
pub use timeit::{check_mode, timeit, Timeit, MODE_ENV};
pub use timing::Timing;
