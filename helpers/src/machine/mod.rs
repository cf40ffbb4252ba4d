//! The machine: what this computer is, what it can do at best, and how the measured code was
//! built. Numbers without this context mislead.

pub(crate) mod build_profile;
pub(crate) mod clock;
pub(crate) mod describe;
pub(crate) mod limits;
