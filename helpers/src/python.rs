//! Python baselines: time a Python statement in the project's interpreter with the same
//! statistics as [`timeit`](crate::timeit), and put it in the same [`compare`](crate::compare)
//! table as Rust code.
//!
//! Each Python candidate is one interpreter process that stays up for the whole measurement
//! and times batches on request with `timeit.Timer` (which, like IPython's `%timeit`, turns the
//! garbage collector off while timing). Because batches are requested one at a time, Python and
//! Rust candidates interleave round by round exactly like Rust candidates do.

use crate::compare::Candidate;
use crate::error::{HprError, Result};
use crate::timing::{BatchRunner, Timeit, Timing};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const DRIVER: &str = include_str!("python_driver.py");

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
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
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

/// A running Python driver that times batches of one statement.
struct Driver {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    version: String,
}

impl Driver {
    fn start(setup: &str, statement: &str) -> Result<Driver> {
        let interpreter = python_interpreter()?;
        let mut child = Command::new(&interpreter)
            .args(["-u", "-c", DRIVER])
            .env("HPR_PY_SETUP", setup)
            .env("HPR_PY_STMT", statement)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| HprError::Python {
                message: format!("could not start {}: {e}", interpreter.display()),
            })?;
        let input = child.stdin.take().expect("stdin was piped");
        let output = BufReader::new(child.stdout.take().expect("stdout was piped"));
        let mut driver = Driver {
            child,
            input,
            output,
            version: String::new(),
        };
        let first = driver.read_line()?;
        match first.strip_prefix("READY ") {
            Some(version) => driver.version = version.trim().to_owned(),
            None => return Err(driver.error_after(first)),
        }
        Ok(driver)
    }

    fn read_line(&mut self) -> Result<String> {
        let mut line = String::new();
        match self.output.read_line(&mut line) {
            Ok(0) => Err(HprError::Python {
                message: "the Python process ended unexpectedly".into(),
            }),
            Ok(_) => Ok(line),
            Err(e) => Err(HprError::Python {
                message: format!("reading from Python: {e}"),
            }),
        }
    }

    /// Reads the traceback that follows an `ERR` line.
    fn error_after(&mut self, first: String) -> HprError {
        if first.trim() != "ERR" {
            return HprError::Python {
                message: format!("unexpected answer from the driver: {first:?}"),
            };
        }
        let mut traceback = String::new();
        while let Ok(line) = self.read_line() {
            if line.trim_end() == "END" {
                break;
            }
            traceback.push_str(&line);
        }
        HprError::Python {
            message: format!("the code raised an exception:\n{}", traceback.trim_end()),
        }
    }

    fn time_batch(&mut self, loops: u64) -> Result<f64> {
        writeln!(self.input, "{loops}").map_err(|e| HprError::Python {
            message: format!("writing to Python: {e}"),
        })?;
        let answer = self.read_line()?;
        match answer.strip_prefix("OK ") {
            Some(seconds) => seconds.trim().parse().map_err(|_| HprError::Python {
                message: format!("unreadable time from Python: {answer:?}"),
            }),
            None => Err(self.error_after(answer)),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runner(mut driver: Driver) -> BatchRunner<'static> {
    Box::new(move |loops| driver.time_batch(loops))
}

/// Times the Python `statement` after running `setup` once, with the default [`Timeit`]
/// settings; the result is a [`Timing`] like Rust's.
///
/// ```no_run
/// let timing = hpr::python_timeit("xs = list(range(1000))", "sum(xs)").unwrap();
/// println!("{timing}");
/// ```
pub fn python_timeit(setup: &str, statement: &str) -> Result<Timing> {
    python_timeit_with(&Timeit::new(), setup, statement)
}

/// [`python_timeit`] with explicit settings.
pub fn python_timeit_with(settings: &Timeit, setup: &str, statement: &str) -> Result<Timing> {
    settings.validate()?;
    let driver = Driver::start(setup, statement)?;
    let version = driver.version.clone();
    settings.run_batches(runner(driver), Some(version))
}

/// A Python candidate for [`compare`](crate::compare): the statement runs in its own
/// interpreter, interleaved with the other candidates.
///
/// ```no_run
/// use hpr::{candidate, compare, python_candidate};
/// let xs: Vec<u64> = (0..1000).collect();
/// let table = compare(vec![
///     python_candidate("Python sum()", "xs = list(range(1000))", "sum(xs)").unwrap(),
///     candidate("Rust iter().sum()", || xs.iter().sum::<u64>()),
/// ]).unwrap();
/// ```
pub fn python_candidate(
    name: impl Into<String>,
    setup: &str,
    statement: &str,
) -> Result<Candidate<'static>> {
    let driver = Driver::start(setup, statement)?;
    let version = driver.version.clone();
    Ok(Candidate {
        name: name.into(),
        runner: runner(driver),
        interpreter: Some(version),
    })
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
    use std::time::Duration;

    /// These tests need the project's `.venv` (or `HPR_PYTHON`); `make test` creates it.
    fn available() -> bool {
        python_interpreter().is_ok()
    }

    fn quick() -> Timeit {
        Timeit::new().runs(3).budget(Duration::from_millis(300))
    }

    #[test]
    fn times_a_statement_with_the_same_statistics() {
        assert!(available(), "{}", python_interpreter().unwrap_err());
        let timing = python_timeit_with(&quick(), "xs = list(range(100))", "sum(xs)").unwrap();
        assert_eq!(timing.per_run.len(), 3);
        assert!(timing.loops_per_run > 10);
        assert!(timing.interpreter.as_deref().unwrap().contains("Python 3."));
        assert!(timing.to_html().contains("timed inside the interpreter"));
    }

    #[test]
    fn exceptions_carry_the_traceback() {
        assert!(available());
        let setup_error =
            python_timeit_with(&quick(), "import no_such_module", "pass").unwrap_err();
        let text = setup_error.to_string();
        assert!(
            text.contains("ModuleNotFoundError") && text.contains("no_such_module"),
            "{text}"
        );
        let statement_error = python_timeit_with(&quick(), "", "1 / 0").unwrap_err();
        assert!(
            statement_error.to_string().contains("ZeroDivisionError"),
            "{statement_error}"
        );
    }

    #[test]
    fn python_and_rust_share_one_comparison() {
        assert!(available());
        let data: Vec<u64> = (0..100).collect();
        let table = crate::compare_with(
            &quick(),
            vec![
                python_candidate("python", "xs = list(range(100))", "sum(xs)").unwrap(),
                crate::candidate("rust", || data.iter().sum::<u64>()),
            ],
            0,
        )
        .unwrap();
        assert!(table.ratio("rust").unwrap() < 1.0, "{table}");
        assert!(table
            .notes
            .iter()
            .any(|n| n.contains("python runs in CPython")));
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
        let error = python_timeit("", "pass").unwrap_err();
        println!("{error}");
        assert!(matches!(error, HprError::Python { .. }));
    }
}
