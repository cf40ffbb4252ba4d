//! The Python bridge: Python baselines timed like Rust code, scripts run in the project's
//! interpreter, and arrays exchanged with it through `.npy` files.

pub(crate) mod exchange;
pub(crate) mod extension;
pub(crate) mod npy;
pub(crate) mod params;
pub(crate) mod timeit;

pub use exchange::Exchange;
pub use extension::{build_extension, extension_target_dir};
pub use npy::NpyElement;
pub use params::PythonLiteral;
pub use timeit::{python_candidate, python_timeit, python_timeit_with, PythonSession};

use crate::error::{HprError, Result};
use std::path::PathBuf;
use std::process::Command;

/// The environment variable that names the Python interpreter to use instead of the project's.
pub const PYTHON_ENV: &str = "HPR_PYTHON";

/// The interpreter for baselines: `$HPR_PYTHON`, else the project's `.venv/bin/python` (made by
/// `make setup`), else an error saying how to get one.
pub fn python_interpreter() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(PYTHON_ENV) {
        let path = PathBuf::from(path);
        return if path.exists() {
            Ok(path)
        } else {
            Err(HprError::Python {
                message: format!(
                    "{PYTHON_ENV} names {}, which does not exist",
                    path.display()
                ),
            })
        };
    }
    let project = project_root().join(".venv/bin/python");
    if project.exists() {
        return Ok(project);
    }
    Err(HprError::Python {
        message: format!(
            "no Python interpreter: {} does not exist. Run `make setup` in the project, or set \
             {PYTHON_ENV} to a Python 3 interpreter",
            project.display()
        ),
    })
}

/// This checkout's root: hpr lives in its `helpers/` folder.
fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs a Python script in the project's interpreter and returns what it printed; an
/// exception becomes an error carrying its traceback. Useful to check a baseline's answer.
///
/// ```no_run
/// assert_eq!(hpr::python_run("print(sum(range(10)))").unwrap().trim(), "45");
/// ```
pub fn python_run(script: &str) -> Result<String> {
    let interpreter = python_interpreter()?;
    let output = Command::new(&interpreter)
        .args(["-c", script])
        .output()
        .map_err(|e| HprError::Python {
            message: format!("could not start {}: {e}", interpreter.display()),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(HprError::Python {
            message: format!(
                "the script failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These tests need the project's `.venv` (or `HPR_PYTHON`); `make test` creates it.
    pub(super) fn available() -> bool {
        python_interpreter().is_ok()
    }

    #[test]
    fn python_run_returns_output_or_the_error() {
        assert!(available());
        assert_eq!(python_run("print(6 * 7)").unwrap().trim(), "42");
        let error = python_run("raise ValueError('bad value')").unwrap_err();
        assert!(
            error.to_string().contains("ValueError: bad value"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_interpreter_is_a_clear_error() {
        // Run in a child process: changing the environment here would race other tests.
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "python::tests::missing_interpreter_child",
                "--nocapture",
                "--include-ignored",
            ])
            .env(PYTHON_ENV, "/nonexistent/python")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{text}\n{errors}");
        assert!(
            text.contains("names /nonexistent/python, which does not exist"),
            "{text}"
        );
    }

    #[test]
    #[ignore = "run by a_missing_interpreter_is_a_clear_error with HPR_PYTHON set"]
    fn missing_interpreter_child() {
        let error = python_run("pass").unwrap_err();
        println!("{error}");
        assert!(matches!(error, HprError::Python { .. }));
    }
}
