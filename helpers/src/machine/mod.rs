//! The machine: what this computer is, what it can do at best, and how the measured code was
//! built. Numbers without this context mislead.

pub(crate) mod build_profile;
pub(crate) mod clock;
pub(crate) mod describe;
pub(crate) mod limits;
pub(crate) mod rustc;

pub use build_profile::{ensure_release_profile, BuildProfile};
pub use clock::Clock;
pub use describe::{machine, Cache, Machine};
pub use limits::{
    limits, peak_flops_one_thread, pointer_chase_latency, stream_bandwidth, Bandwidth,
    LevelLatency, Limits, StreamKernel, Threads,
};
pub use rustc::{compile_program, RustcProfile};
