//! Empty: this crate only lists dependencies (see Cargo.toml).
