#![doc = include_str!("../README.md")]

//! # How the crate is organised
//!
//! - [`measure`]: [`timeit`], [`compare`], [`scaling`], [`memit`], [`counters`], [`profile`],
//!   [`Sections`], and [`Work`] for throughput: times and counts code.
//! - [`machine`](mod@machine): [`machine()`](fn@machine), [`limits`], [`BuildProfile`]: what the numbers were
//!   measured on and what the hardware allows at best.
//! - [`render`]: [`Render`], [`plot`], [`Panel`], [`Table`] (a chapter's own table), the
//!   `format_*` units: every result shows itself the same way, HTML in Jupyter, CSV for export,
//!   text through `Display`.
//! - [`python`]: Python baselines timed like Rust code, and arrays exchanged with Python through
//!   `.npy` files ([`Exchange`]).
//! - [`data`]: seeded inputs ([`rng`]), power laws fitted to results ([`PowerLaw`]) and a
//!   start-up plus a cost per unit ([`LinearCost`]).
//! - **Processes** ([`Service`], [`free_port`]): programs a notebook starts beside itself (a
//!   server, a broker, workers), with clear errors when they cannot start, stopped for sure;
//!   [`PrivateRedis`], a Redis server with a folder of its own and a random password.
//! - **Files** ([`work_dir`]): the kernel's private folder, for what a notebook writes; removed
//!   with the kernel.
//! - **Results** ([`Headline`], [`Results`]): a chapter's headline numbers, recorded for the
//!   gallery and for comparing a run with the previous one, and read back by chapter 13.
//! - **Claims** ([`claim`]) report what one run's timings show, where an assertion would be
//!   wrong on a busy machine.

mod claims;
pub mod data;
mod error;
pub mod machine;
pub mod measure;
mod processes;
pub mod python;
pub mod render;
mod results;
#[cfg(test)]
mod test_support;

pub use claims::{claim, CLAIM_NOT_SEEN, CLAIM_SEEN};
pub use error::{HprError, Result};

// Everything also at the crate's root, so that a notebook writes `hpr::timeit` or takes the
// prelude; the documentation lists each item once, under its group.
#[doc(no_inline)]
pub use data::{random_cycle, random_f64s, random_u64s, rng, shuffled, LinearCost, PowerLaw, Rng};
#[doc(no_inline)]
pub use machine::{
    compile_program, ensure_release_profile, limits, machine, peak_flops_one_thread,
    pointer_chase_latency, stream_bandwidth, Bandwidth, BuildProfile, Cache, Clock, LevelLatency,
    Limits, Machine, RustcProfile, StreamKernel, Threads,
};
#[doc(no_inline)]
pub use measure::{
    candidate, check_mode, compare, compare_with, counters, memit, memit_named, percentile,
    profile, profile_with, scaling, scaling_with, software_counters_available, timeit, Candidate,
    Ceiling, Comparison, ComparisonRow, Counter, Counters, CountingAllocator, FunctionShare,
    MemoryTable, MemoryUsage, Profile, Scaling, Sections, Stack, Summary, Throughput, Timeit,
    Timing, Work, WorkUnit, COUNTERS_ENV, MODE_ENV,
};
pub use processes::files::{work_dir, WORK_DIR_ENV};
pub use processes::redis::PrivateRedis;
pub use processes::service::{free_port, Service, ServiceBuilder};
#[doc(no_inline)]
pub use python::{
    build_extension, extension_target_dir, python_candidate, python_interpreter, python_run,
    python_timeit, python_timeit_with, Exchange, NpyElement, PythonLiteral, PythonSession,
    PYTHON_ENV,
};
#[doc(no_inline)]
pub use render::Render;
#[doc(no_inline)]
pub use render::{display, format_bytes, format_duration, format_rate, plot, Figure, Panel, Table};
pub use results::{
    Aspect, BookFigure, ChapterResults, Check, Conditions, Entry, Headline, ResultTable, Results,
    Verdict, RESULTS_DIR_ENV, RESULTS_FILE_ENV,
};

render::rendered!(
    Comparison,
    Conditions,
    Counters,
    Figure,
    HprError,
    Limits,
    Machine,
    MemoryTable,
    MemoryUsage,
    Panel,
    Profile,
    ResultTable,
    Results,
    Scaling,
    Sections,
    Table,
    Timing,
);

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
        self, bar_chart, heatmap, histogram, Bar, GridChart, LineChart, Mark, Scale, Series,
    };
    pub use crate::{
        build_extension, candidate, claim, compare, compare_with, compile_program, counters,
        display, ensure_release_profile, format_bytes, format_duration, format_rate, free_port,
        limits, machine, memit, memit_named, percentile, pointer_chase_latency, profile,
        profile_with, python_candidate, python_interpreter, python_params, python_run,
        python_timeit, python_timeit_with, random_cycle, random_f64s, random_u64s, rng, scaling,
        scaling_with, shuffled, stream_bandwidth, timeit, work_dir, Aspect, BuildProfile,
        Candidate, Ceiling, Comparison, ComparisonRow, Counters, Exchange, Figure, Headline,
        HprError, Limits, Machine, MemoryTable, MemoryUsage, Panel, PowerLaw, PrivateRedis,
        Profile, PythonSession, Render, Results, Rng, RustcProfile, Scaling, Sections, Service,
        StreamKernel, Table, Threads, Throughput, Timeit, Timing, Verdict, Work,
    };
    // Anonymous: only its `evcxr_display` method is wanted, so a cell's last value shows after
    // one compilation (see `render::DebugValue`).
    pub use crate::render::DebugValue as _;
    pub use rayon::prelude::*;
    pub use std::hint::black_box;
    pub use std::time::Duration;
}
