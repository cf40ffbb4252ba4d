//! The processes around a notebook's code, and what they leave behind.
//!
//! - [`guard`]: the kernel's own process survives the code it runs: a panic in measured code
//!   becomes an error.
//! - [`files`]: the kernel's private folder, and files named after the process that made them,
//!   removed once that process is gone.
//! - [`service`]: programs a notebook starts beside itself, stopped for sure.
//! - [`redis`]: one such program, a Redis server of the notebook's own.

pub(crate) mod files;
pub(crate) mod guard;
pub(crate) mod redis;
pub(crate) mod service;
