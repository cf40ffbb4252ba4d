//! Stand-alone programs compiled by `rustc` under a chosen profile: what chapters 01 and 08 set
//! side by side (optimisation level, overflow checks, debug assertions, this CPU only).

use crate::error::{HprError, Result};
use crate::processes::files::work_dir;
use std::path::PathBuf;
use std::process::Command;

/// How `rustc` builds a program. Every setting is passed explicitly, so a profile means the same
/// whatever rustc's defaults are (edition 2021).
///
/// ```
/// use hpr::RustcProfile;
/// let debug = RustcProfile::opt(0).checks();
/// assert_eq!(debug.label(), "o0-checks");
/// assert!(debug.flags().contains(&"overflow-checks=on".to_string()));
/// assert_eq!(RustcProfile::opt(3).native().label(), "o3-native");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RustcProfile {
    /// `-C opt-level`, 0 to 3.
    pub opt_level: u8,
    /// `-C overflow-checks`: every integer `+`, `-` and `*` checked.
    pub overflow_checks: bool,
    /// `-C debug-assertions`: `debug_assert!` and the standard library's own checks.
    pub debug_assertions: bool,
    /// `-C target-cpu=native`: instructions this CPU has, the binary may not run elsewhere.
    pub native: bool,
}

impl RustcProfile {
    /// Optimisation level `level` (0 to 3), without checks, for any CPU of this architecture.
    pub fn opt(level: u8) -> RustcProfile {
        RustcProfile {
            opt_level: level,
            overflow_checks: false,
            debug_assertions: false,
            native: false,
        }
    }

    /// With overflow checks and debug assertions, as cargo's debug profile.
    pub fn checks(self) -> RustcProfile {
        self.overflow_checks().debug_assertions()
    }

    /// With overflow checks.
    pub fn overflow_checks(mut self) -> RustcProfile {
        self.overflow_checks = true;
        self
    }

    /// With debug assertions.
    pub fn debug_assertions(mut self) -> RustcProfile {
        self.debug_assertions = true;
        self
    }

    /// For this CPU only (`-C target-cpu=native`).
    pub fn native(mut self) -> RustcProfile {
        self.native = true;
        self
    }

    /// rustc's arguments for this profile.
    pub fn flags(&self) -> Vec<String> {
        let on = |yes: bool| if yes { "on" } else { "off" };
        let mut flags = vec![
            "--edition".to_string(),
            "2021".to_string(),
            "-C".to_string(),
            format!("opt-level={}", self.opt_level),
            "-C".to_string(),
            format!("overflow-checks={}", on(self.overflow_checks)),
            "-C".to_string(),
            format!("debug-assertions={}", on(self.debug_assertions)),
        ];
        if self.native {
            flags.extend(["-C".to_string(), "target-cpu=native".to_string()]);
        }
        flags
    }

    /// A short name for file names: `o3`, `o0-checks`, `o3-overflow`, `o3-native`.
    pub fn label(&self) -> String {
        let mut label = format!("o{}", self.opt_level);
        match (self.overflow_checks, self.debug_assertions) {
            (true, true) => label.push_str("-checks"),
            (true, false) => label.push_str("-overflow"),
            (false, true) => label.push_str("-assertions"),
            (false, false) => {}
        }
        if self.native {
            label.push_str("-native");
        }
        label
    }
}

/// Compiles the stand-alone program `source` (the text of one `.rs` file with a `main`) under
/// `profile`, in the kernel's private folder; returns the binary's path, named after `name` and
/// the profile.
///
/// # Errors
/// [`HprError::InvalidArgument`] with rustc's messages when the source does not compile;
/// [`HprError::Io`] when rustc cannot be started or the folder written.
pub fn compile_program(name: &str, source: &str, profile: RustcProfile) -> Result<PathBuf> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(HprError::invalid(
            "name",
            format!("`{name}` must be letters, digits and underscores: it names the files"),
        ));
    }
    let folder = work_dir()?.join("rustc");
    std::fs::create_dir_all(&folder)
        .map_err(|e| HprError::io(format!("creating {}", folder.display()), &e))?;
    let file = folder.join(format!("{name}.rs"));
    std::fs::write(&file, source)
        .map_err(|e| HprError::io(format!("writing {}", file.display()), &e))?;
    let binary = folder.join(format!("{name}-{}", profile.label()));
    let compiled = Command::new("rustc")
        .args(profile.flags())
        .arg(&file)
        .arg("-o")
        .arg(&binary)
        .output()
        .map_err(|e| HprError::io("starting rustc".to_string(), &e))?;
    if !compiled.status.success() {
        return Err(HprError::invalid(
            "source",
            format!(
                "rustc {} rejected {name}:\n{}",
                profile.flags().join(" "),
                String::from_utf8_lossy(&compiled.stderr)
            ),
        ));
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_compiles_under_two_profiles_and_runs() {
        let source = "fn main() { let x: u8 = std::env::args().count() as u8 * 200; \
                      println!(\"{}\", x.wrapping_add(100)); }";
        let release = compile_program("overflow", source, RustcProfile::opt(1)).unwrap();
        let checked = compile_program("overflow", source, RustcProfile::opt(1).checks()).unwrap();
        assert_ne!(release, checked, "one binary per profile");
        let run = |binary: &PathBuf| Command::new(binary).output().unwrap();
        // 200 fits in a u8; with two arguments 400 overflows: a panic only with checks on.
        assert!(run(&release).status.success() && run(&checked).status.success());
        let overflowing = |binary: &PathBuf| Command::new(binary).arg("x").output().unwrap();
        assert!(overflowing(&release).status.success());
        assert!(
            !overflowing(&checked).status.success(),
            "overflow checks panic"
        );
    }

    #[test]
    fn a_source_that_does_not_compile_names_the_error() {
        let error = compile_program(
            "broken",
            "fn main() { undefined_thing }",
            RustcProfile::opt(0),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("undefined_thing"), "{error}");
        assert!(compile_program("../x", "fn main() {}", RustcProfile::opt(0)).is_err());
    }
}
