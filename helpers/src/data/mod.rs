//! Data for the experiments: seeded random inputs, and power laws fitted to measurements.

pub(crate) mod fit;
pub(crate) mod rng;

pub use fit::{LinearCost, PowerLaw};
pub use rng::{random_cycle, random_f64s, random_u64s, rng, shuffled, Rng};
