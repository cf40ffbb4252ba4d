//! Data for the experiments: seeded random inputs, and power laws fitted to measurements.

pub(crate) mod fit;
pub(crate) mod rng;
