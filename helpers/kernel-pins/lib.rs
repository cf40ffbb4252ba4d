//! Empty: this crate only pins versions (see Cargo.toml).
