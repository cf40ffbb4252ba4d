//! Build script of hpr: records the optimisation level.
// Records the optimisation level this crate is compiled with. In evcxr every cell and every
// dependency share one profile, so this is also the profile of the code being measured.
fn main() {
    let opt_level = std::env::var("OPT_LEVEL").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=HPR_OPT_LEVEL={opt_level}");
    println!("cargo:rerun-if-changed=build.rs");
}
