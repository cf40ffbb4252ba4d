//! Measuring: time, throughput, scaling, memory, the kernel's counters and where time goes.

pub(crate) mod compare;
pub(crate) mod comparison;
pub(crate) mod counters;
pub(crate) mod guard;
pub(crate) mod memory;
pub(crate) mod sampling;
pub(crate) mod scaling;
pub(crate) mod sections;
pub(crate) mod stats;
pub(crate) mod throughput;
pub(crate) mod timeit;
pub(crate) mod timing;
