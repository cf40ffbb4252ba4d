//! Python statements timed with the same statistics as Rust code, and interleaved with it in
//! one comparison.
//!
//! A [`PythonSession`] is one interpreter process: it runs a setup once, then stays up and times
//! batches of any of its statements on request with `timeit.Timer` (which, like IPython's
//! `%timeit`, turns the garbage collector off while timing). Because batches are requested one
//! at a time, Python and Rust candidates interleave round by round exactly like Rust candidates
//! do. The setup runs once per session, not once per batch as `timeit` would run it: like data
//! built in an IPython session before `%timeit`, it is built once, and a statement that changes
//! it sees its changes in later batches (and so do the session's other statements).
//! [`python_candidate`] and [`python_timeit`] start a session of their own.

use super::python_interpreter;
use crate::error::{HprError, Result};
use crate::measure::compare::Candidate;
use crate::measure::timeit::{BatchRunner, Timeit};
use crate::measure::timing::Timing;
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::rc::Rc;

const DRIVER: &str = include_str!("driver.py");

/// A running Python driver: one setup, and statements timed in batches.
struct Driver {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    version: String,
    statements: usize,
}

impl Driver {
    fn start(setup: &str) -> Result<Driver> {
        let interpreter = python_interpreter()?;
        let mut child = Command::new(&interpreter)
            .args(["-u", "-c", DRIVER])
            .env("HPR_PY_SETUP", setup)
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
            statements: 0,
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

    /// Sends one line and reads the answer: the text after `OK`, or the error.
    fn ask(&mut self, line: &str) -> Result<String> {
        writeln!(self.input, "{line}").map_err(|e| HprError::Python {
            message: format!("writing to Python: {e}"),
        })?;
        let answer = self.read_line()?;
        match answer.trim_end().strip_prefix("OK") {
            Some(rest) => Ok(rest.trim().to_owned()),
            None => Err(self.error_after(answer)),
        }
    }

    /// Compiles `statement` on the setup's names; its key for [`Driver::time_batch`].
    fn add(&mut self, statement: &str) -> Result<usize> {
        let key = self.statements;
        // A JSON string is one line whatever the statement holds.
        let text = serde_json::to_string(statement).expect("a string serializes");
        self.ask(&format!("STMT {key} {text}"))?;
        self.statements += 1;
        Ok(key)
    }

    fn time_batch(&mut self, key: usize, loops: u64) -> Result<f64> {
        let answer = self.ask(&format!("{key} {loops}"))?;
        answer.parse().map_err(|_| HprError::Python {
            message: format!("unreadable time from Python: {answer:?}"),
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One Python interpreter that runs `setup` once and times any number of statements on its
/// names: the candidates of one comparison that share their data, or one setup timed at several
/// sizes, start one interpreter and build their data once. The process ends with the session and
/// the last candidate made from it.
///
/// ```no_run
/// use hpr::{candidate, compare, PythonSession};
/// let python = PythonSession::start("xs = list(range(1000))").unwrap();
/// let xs: Vec<u64> = (0..1000).collect();
/// let table = compare(vec![
///     python.candidate("Python sum()", "sum(xs)").unwrap(),
///     python.candidate("Python for loop", "t = 0\nfor x in xs: t += x").unwrap(),
///     candidate("Rust iter().sum()", || xs.iter().sum::<u64>()),
/// ]).unwrap();
/// ```
pub struct PythonSession {
    driver: Rc<RefCell<Driver>>,
}

impl PythonSession {
    /// Starts the project's Python and runs `setup`; its exception, if it raises one, is the
    /// error.
    pub fn start(setup: &str) -> Result<PythonSession> {
        Ok(PythonSession {
            driver: Rc::new(RefCell::new(Driver::start(setup)?)),
        })
    }

    /// "CPython 3.11.7": the interpreter, as comparisons name it.
    pub fn version(&self) -> String {
        self.driver.borrow().version.clone()
    }

    fn runner(&self, statement: &str) -> Result<BatchRunner<'static>> {
        let key = self.driver.borrow_mut().add(statement)?;
        let driver = Rc::clone(&self.driver);
        Ok(Box::new(move |loops| {
            driver.borrow_mut().time_batch(key, loops)
        }))
    }

    /// A candidate for [`compare`](crate::compare) that times `statement` in this interpreter.
    pub fn candidate(
        &self,
        name: impl Into<String>,
        statement: &str,
    ) -> Result<Candidate<'static>> {
        Ok(Candidate {
            name: name.into(),
            runner: self.runner(statement)?,
            interpreter: Some(self.version()),
            work: None,
        })
    }

    /// Times `statement` in this interpreter with `settings`.
    pub fn timeit_with(&self, settings: &Timeit, statement: &str) -> Result<Timing> {
        settings.validate()?;
        settings.run_batches(self.runner(statement)?, Some(self.version()))
    }
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
    PythonSession::start(setup)?.timeit_with(settings, statement)
}

/// A Python candidate for [`compare`](crate::compare): the statement runs in an interpreter of
/// its own, interleaved with the other candidates. Candidates that share a setup can share an
/// interpreter instead: [`PythonSession::candidate`].
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
    PythonSession::start(setup)?.candidate(name, statement)
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
    fn a_session_runs_its_setup_once_in_one_interpreter_for_all_its_statements() {
        assert!(available());
        let folder = crate::python::Exchange::new().unwrap();
        let log = folder.dir().join("setups");
        let setup = format!(
            "import os\nopen({:?}, 'a').write(f'{{os.getpid()}}\\n')\nxs = list(range(100))",
            log
        );
        let session = PythonSession::start(&setup).unwrap();
        let table = crate::compare_with(
            &quick(),
            vec![
                session.candidate("sum", "sum(xs)").unwrap(),
                session.candidate("max", "max(xs)").unwrap(),
            ],
            0,
        )
        .unwrap();
        assert_eq!(table.rows.len(), 2);
        let sized = session.timeit_with(&quick(), "sorted(xs)").unwrap();
        assert_eq!(sized.per_run.len(), 3);
        assert!(sized.interpreter.as_deref().unwrap().contains("Python 3."));
        let setups = std::fs::read_to_string(&log).unwrap();
        assert_eq!(setups.lines().count(), 1, "setups ran in: {setups}");
        let pid: i32 = setups.trim().parse().unwrap();
        let running = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").starts_with(" Z"))
        };
        assert!(
            running(pid),
            "the interpreter ends with its session, not before"
        );
        // A statement that does not compile fails when it is added, and the session goes on.
        let broken = session.candidate("broken", "sum(xs").err().unwrap();
        assert!(broken.to_string().contains("SyntaxError"), "{broken}");
        assert!(session.timeit_with(&quick(), "len(xs)").is_ok());
        drop(session);
        assert!(!running(pid), "the interpreter {pid} outlived its session");
    }

    #[test]
    fn what_the_setup_defines_reaches_worker_processes() {
        assert!(available());
        // Pool.map pickles its function by module and name: the setup must be importable.
        let setup = "import multiprocessing\n\
                     def square(x):\n    return x * x\n\
                     pool = multiprocessing.get_context('fork').Pool(2)\n";
        let session = PythonSession::start(setup).unwrap();
        let statement = "assert pool.map(square, range(10)) == [x * x for x in range(10)]";
        session.timeit_with(&quick(), statement).unwrap();
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
