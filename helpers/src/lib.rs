#![doc = include_str!("../README.md")]

//! # How the crate is organised
//!
//! - **Measuring** ([`timeit`], [`compare`], [`scaling`], [`memit`], [`counters`],
//!   [`profile`], [`Sections`], and [`Work`] for throughput) times and counts code.
//! - **The machine** ([`machine`], [`limits`], [`BuildProfile`]) states what the numbers were
//!   measured on and what the hardware allows at best.
//! - **Rendering** ([`Render`], [`plot`], [`Panel`], the `format_*` units) shows every result
//!   the same way: HTML in Jupyter, CSV for export, text through `Display`.
//! - **The Python bridge** ([`python`]) times Python baselines like Rust code and exchanges
//!   arrays with Python through `.npy` files.
//! - **Data** ([`rng`], [`PowerLaw`]) makes seeded inputs and fits power laws to results.
//! - **Claims** ([`claim`]) report what one run's timings show, where an assertion would be
//!   wrong on a busy machine.

mod claims;
mod data;
mod error;
mod machine;
mod measure;
pub mod python;
mod render;
#[cfg(test)]
mod test_support;

pub use claims::{claim, CLAIM_NOT_SEEN, CLAIM_SEEN};
pub use error::{HprError, Result};

pub use measure::compare::{candidate, compare, compare_with, Candidate};
pub use measure::comparison::{Comparison, ComparisonRow};
pub use measure::counters::{counters, software_counters_available, Counter, Counters};
pub use measure::memory::{
    memit, memit_named, CountingAllocator, MemoryTable, MemoryUsage, COUNTERS_ENV,
};
pub use measure::sampling::{profile, profile_with, FunctionShare, Profile, Stack};
pub use measure::scaling::{scaling, scaling_with, Scaling};
pub use measure::sections::Sections;
pub use measure::stats::Summary;
pub use measure::throughput::{Ceiling, Throughput, Work, WorkUnit};
pub use measure::timeit::{timeit, Timeit};
pub use measure::timing::Timing;

pub use machine::build_profile::{ensure_release_profile, BuildProfile};
pub use machine::clock::Clock;
pub use machine::describe::{machine, Cache, Machine};
pub use machine::limits::{
    limits, peak_flops_one_thread, pointer_chase_latency, stream_bandwidth, Bandwidth, Kernel,
    LevelLatency, Limits, Threads,
};

pub use render::panel::Panel;
pub use render::plot::{self, Figure};
pub use render::units::{format_bytes, format_duration, format_rate};
pub use render::{display, Render, RENDERED_TYPES};

pub use data::fit::PowerLaw;
pub use data::rng::{random_cycle, random_f64s, random_u64s, rng, shuffled, Rng};

pub use python::exchange::Exchange;
pub use python::npy::NpyElement;
pub use python::timeit::{python_candidate, python_timeit, python_timeit_with};
pub use python::{python_interpreter, python_run, PYTHON_ENV};

/// N-dimensional arrays for the matrix chapter (with rayon for parallel `Zip`).
pub use ndarray;

/// Hash functions compared in the hashing chapter: FxHash (rustc's), aHash and foldhash.
pub use {ahash, foldhash, rustc_hash};

/// Data parallelism for the notebooks (re-exported so that every notebook's only dependency is
/// `hpr`, which keeps evcxr's compile cache shared).
pub use rayon;

/// The seeded generator behind [`rng`].
pub use fastrand;

/// Everything a notebook needs: `use hpr::prelude::*;`.
pub mod prelude {
    pub use crate::plot::{
        self, bar_chart, heatmap, histogram, Bar, LineChart, Mark, Scale, Series,
    };
    pub use crate::{
        candidate, claim, compare, compare_with, counters, ensure_release_profile, format_bytes,
        format_duration, format_rate, limits, machine, memit, memit_named, pointer_chase_latency,
        profile, profile_with, python_candidate, python_run, python_timeit, python_timeit_with,
        random_cycle, random_f64s, random_u64s, rng, scaling, scaling_with, shuffled,
        stream_bandwidth, timeit, BuildProfile, Ceiling, Comparison, ComparisonRow, Counters,
        Exchange, Figure, HprError, Kernel, Limits, Machine, MemoryTable, MemoryUsage, Panel,
        PowerLaw, Profile, Render, Scaling, Sections, Threads, Throughput, Timeit, Timing, Work,
    };
    pub use rayon::prelude::*;
    pub use std::hint::black_box;
    pub use std::time::Duration;
}
