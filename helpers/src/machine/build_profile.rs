//! The build profile that measured code was compiled with.

use std::fmt;
use std::sync::OnceLock;

/// How the measured code was compiled: the numbers mean little without it.
///
/// evcxr compiles every cell and its dependencies with one profile, so `hpr`'s own profile is the
/// cell's. Its default is opt-level 2 with overflow checks and debug assertions on; the notebooks'
/// setup cell switches to release-grade code generation with `:build_env` and `:opt`.
///
/// ```
/// let profile = hpr::BuildProfile::current();
/// assert_eq!(profile.debug_assertions, cfg!(debug_assertions));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildProfile {
    /// The optimisation level (`0`..`3`, `s`, `z`), as Cargo passed it.
    pub opt_level: String,
    /// Whether `debug_assert!` is compiled in.
    pub debug_assertions: bool,
    /// Whether integer arithmetic checks for overflow (and panics on it).
    pub overflow_checks: bool,
}

impl BuildProfile {
    /// The profile this crate, and therefore the current evcxr cell, was built with.
    pub fn current() -> BuildProfile {
        static PROFILE: OnceLock<BuildProfile> = OnceLock::new();
        PROFILE
            .get_or_init(|| BuildProfile {
                opt_level: env!("HPR_OPT_LEVEL").to_owned(),
                debug_assertions: cfg!(debug_assertions),
                overflow_checks: overflow_checks_enabled(),
            })
            .clone()
    }

    /// True for what `cargo build --release` produces: opt-level 3, no checks.
    pub fn is_release_grade(&self) -> bool {
        self.opt_level == "3" && !self.debug_assertions && !self.overflow_checks
    }
}

impl fmt::Display for BuildProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on_off = |on: bool| if on { "on" } else { "off" };
        write!(
            f,
            "opt-level {}, overflow checks {}, debug assertions {}",
            self.opt_level,
            on_off(self.overflow_checks),
            on_off(self.debug_assertions)
        )
    }
}

/// Fails unless cells are compiled release-grade (opt-level 3, no overflow checks, no debug
/// assertions), saying which setting is off. Every notebook's setup cell calls it, so that no
/// chapter silently measures debug code.
///
/// It also makes evcxr accept `?` from the first cell on: evcxr enables `?` only after a compile
/// error asks for it, and if the first `?` of a session sits in a cell's last expression, it
/// falls back to showing that value with `Debug` instead of rendering it.
pub fn ensure_release_profile() -> crate::Result<BuildProfile> {
    let profile = BuildProfile::current();
    if profile.is_release_grade() {
        Ok(profile)
    } else {
        Err(crate::HprError::invalid(
            "build profile",
            format!(
                "cells are compiled with {profile}; timings would measure debug code. Keep the \
                 setup cell's `:opt 3` and `:build_env CARGO_PROFILE_DEV_...=false` lines"
            ),
        ))
    }
}

/// There is no stable `cfg` for overflow checks, so overflow once and see whether it panics.
fn overflow_checks_enabled() -> bool {
    let max = std::hint::black_box(u8::MAX);
    crate::processes::guard::catch_panics(|| std::hint::black_box(max + std::hint::black_box(1)))
        .is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_this_test_builds_profile() {
        let profile = BuildProfile::current();
        // Test builds inherit the dev/test profile, where Cargo ties overflow checks to
        // debug assertions unless a profile sets them apart (this workspace does not).
        assert_eq!(profile.overflow_checks, cfg!(debug_assertions));
        assert!(!profile.opt_level.is_empty());
        assert!(profile.to_string().starts_with("opt-level "));
        // Unit tests build unoptimised, so the guard must refuse, naming the profile.
        if !profile.is_release_grade() {
            let error = ensure_release_profile().unwrap_err().to_string();
            assert!(
                error.contains("debug code") && error.contains("opt-level"),
                "{error}"
            );
        }
    }
}
