//! A PyO3 extension of the project's `extensions/` folder, built into a wheel as setup builds it.

use super::{project_root, python_interpreter};
use crate::error::{HprError, Result};
use crate::processes::files::cache_dir;
use crate::processes::service::last_lines;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder cargo builds extension `name` in: `<cache>/hpr/<name>-target`, where `make setup`
/// has built it already, so that a chapter's build finds everything compiled.
pub fn extension_target_dir(name: &str) -> Result<PathBuf> {
    cache_dir()
        .map(|cache| cache.join(format!("{name}-target")))
        .ok_or_else(|| HprError::Unsupported {
            what: "an extension's build folder",
            reason: "neither XDG_CACHE_HOME nor HOME is set".into(),
        })
}

/// Builds the PyO3 extension `extensions/<name>` of this project into a wheel in `out`, as `make
/// setup` does (scripts/setup.sh): the `.venv`'s maturin for the baselines' interpreter, release
/// profile, and the build folder of [`extension_target_dir`]. Returns the wheel's path.
///
/// # Errors
/// [`HprError::Python`] when maturin is missing (run `make setup`) or the build fails, with the
/// end of maturin's output.
pub fn build_extension(name: &str, out: impl AsRef<Path>) -> Result<PathBuf> {
    let out = out.as_ref();
    let python = python_interpreter()?;
    let maturin = python.with_file_name("maturin");
    if !maturin.exists() {
        return Err(HprError::Python {
            message: format!(
                "maturin is missing ({}): run `make setup`",
                maturin.display()
            ),
        });
    }
    let manifest = project_root().join(format!("extensions/{name}/Cargo.toml"));
    let built = Command::new(&maturin)
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(extension_target_dir(name)?)
        .arg("-i")
        .arg(&python)
        .arg("--out")
        .arg(out)
        .output()
        .map_err(|e| HprError::io(format!("starting {}", maturin.display()), &e))?;
    if !built.status.success() {
        let stderr = String::from_utf8_lossy(&built.stderr);
        let tail = last_lines(&stderr, 20);
        return Err(HprError::Python {
            message: format!("maturin could not build {}:\n{tail}", manifest.display()),
        });
    }
    newest_wheel(name, out)
}

/// The newest `<name>-*.whl` in `folder`.
fn newest_wheel(name: &str, folder: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| HprError::io(format!("reading {}", folder.display()), &e))?;
    entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| {
            let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
            file.is_some_and(|f| f.starts_with(&format!("{name}-")) && f.ends_with(".whl"))
        })
        .max_by_key(|path| path.metadata().and_then(|m| m.modified()).ok())
        .ok_or_else(|| HprError::Python {
            message: format!(
                "maturin reported success but left no {name} wheel in {}",
                folder.display()
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_folder_follows_the_cache_variables() {
        let dir = extension_target_dir("julia_ext").unwrap();
        assert!(dir.ends_with("hpr/julia_ext-target"), "{}", dir.display());
        assert!(project_root()
            .join("extensions/julia_ext/Cargo.toml")
            .exists());
    }

    #[test]
    fn a_missing_wheel_is_an_error_that_names_the_folder() {
        let folder = crate::work_dir().unwrap().join("no-wheels-here");
        std::fs::create_dir_all(&folder).unwrap();
        let error = newest_wheel("julia_ext", &folder).unwrap_err().to_string();
        assert!(error.contains("no julia_ext wheel"), "{error}");
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
