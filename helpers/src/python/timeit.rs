//! Python statements timed with the same statistics as Rust code, and interleaved with it in
//! one comparison.
//!
//! Each Python candidate is one interpreter process that stays up for the whole measurement
//! and times batches on request with `timeit.Timer` (which, like IPython's `%timeit`, turns the
//! garbage collector off while timing). Because batches are requested one at a time, Python and
//! Rust candidates interleave round by round exactly like Rust candidates do. The setup runs once
//! per candidate, not once per batch as `timeit` would run it: like data built in an IPython
//! session before `%timeit`, it is built once, and a statement that changes it sees its changes
//! in later batches.

use super::python_interpreter;
use crate::error::{HprError, Result};
use crate::measure::compare::Candidate;
use crate::measure::timeit::{BatchRunner, Timeit};
use crate::measure::timing::Timing;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const DRIVER: &str = include_str!("driver.py");

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
        work: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::tests::available;
    use crate::render::Render;
    use std::time::Duration;

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
    fn the_setup_runs_once_however_many_batches() {
        assert!(available());
        // A private folder that is removed with it.
        let folder = crate::python::Exchange::new().unwrap();
        let log = folder.dir().join("setups");
        let setup = format!(
            "open({:?}, 'a').write('setup\\n')\nxs = list(range(100))",
            log
        );
        let timing = python_timeit_with(&quick(), &setup, "sum(xs)").unwrap();
        assert_eq!(timing.per_run.len(), 3);
        let runs = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            runs.lines().count(),
            1,
            "the setup ran {} times",
            runs.lines().count()
        );
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
        // Which is faster is for the notebooks to show; here, that both ran in one table.
        assert_eq!(table.rows.len(), 2);
        assert!(table.ratio("rust").unwrap().is_finite(), "{table}");
        assert!(table
            .notes
            .iter()
            .any(|n| n.contains("python runs in CPython")));
    }
}
