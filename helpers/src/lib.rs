#![doc = include_str!("../README.md")]

mod claims;
mod clock;
mod compare;
mod counters;
mod error;
mod guard;
mod html;
mod limits;
mod machine;
mod memory;
mod panel;
pub mod plot;
mod profile;
mod profiler;
mod python;
mod scaling;
mod stats;
mod timing;

pub use claims::{claim, CLAIM_NOT_SEEN, CLAIM_SEEN};
pub use clock::Clock;
pub use compare::{candidate, compare, compare_with, Candidate, Comparison, ComparisonRow};
pub use counters::{counters, software_counters_available, Counter, Counters};
pub use error::{HprError, Result};
pub use html::{format_bytes, format_duration};
pub use limits::{
    limits, peak_flops_one_thread, pointer_chase_latency, stream_bandwidth, Bandwidth, Kernel,
    LevelLatency, Limits,
};
pub use machine::{machine, Cache, Machine};
pub use memory::{memit, memit_named, CountingAllocator, MemoryTable, MemoryUsage, COUNTERS_ENV};
pub use panel::Panel;
pub use profile::{ensure_release_profile, BuildProfile};
pub use profiler::{profile, profile_with, FunctionShare, Profile, Sections, Stack};
pub use python::{
    python_candidate, python_interpreter, python_run, python_timeit, python_timeit_with, PYTHON_ENV,
};
pub use scaling::{scaling, scaling_with, Scaling};
pub use stats::Summary;

/// N-dimensional arrays for the matrix chapter (with rayon for parallel `Zip`).
pub use ndarray;

/// Hash functions compared in the hashing chapter: FxHash (rustc's), aHash and foldhash.
pub use {ahash, foldhash, rustc_hash};

/// Data parallelism for the notebooks (re-exported so that every notebook's only dependency is
/// `hpr`, which keeps evcxr's compile cache shared).
pub use rayon;
pub use timing::{timeit, Timeit, Timing};

/// Everything a notebook needs: `use hpr::prelude::*;`.
pub mod prelude {
    pub use crate::plot::{
        self, bar_chart, heatmap, histogram, line_chart, Bar, Mark, Scale, Series,
    };
    pub use crate::{
        candidate, claim, compare, compare_with, counters, ensure_release_profile, format_bytes,
        format_duration, limits, machine, memit, memit_named, pointer_chase_latency, profile,
        profile_with, python_candidate, python_run, python_timeit, python_timeit_with, scaling,
        scaling_with, stream_bandwidth, timeit, BuildProfile, HprError, Kernel, MemoryTable, Panel,
        Sections, Timeit,
    };
    pub use rayon::prelude::*;
    pub use std::hint::black_box;
    pub use std::time::Duration;
}
