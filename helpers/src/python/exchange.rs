//! Exchanging data with the Python side through `.npy` files: the same arrays, exactly, on
//! both sides, and results read back typed instead of parsed from printed text.

use super::npy::{self, NpyElement};
use super::python_run;
use super::timeit::PythonSession;
use crate::error::{HprError, Result};
use crate::measure::compare::Candidate;
use crate::processes::files::{path_for_this_process, remove_stale};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const PREFIX: &str = "hpr-exchange-";

/// A folder shared with Python: Rust [`put`](Exchange::put)s arrays that Python `load`s, and
/// Python `save`s results that Rust [`get`](Exchange::get)s. The folder is removed on drop.
///
/// Python code run through [`run`](Exchange::run) or [`candidate`](Exchange::candidate)
/// starts with [`prelude`](Exchange::prelude): `import numpy as np`, `load(name)` and
/// `save(name, value)`.
///
/// ```no_run
/// let exchange = hpr::Exchange::new()?;
/// exchange.put("xs", &[1.0, 2.0, 3.0])?;
/// exchange.run("save('total', load('xs').sum())")?;
/// assert_eq!(exchange.get_scalar::<f64>("total")?, 6.0);
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug)]
pub struct Exchange {
    dir: PathBuf,
}

impl Exchange {
    /// A new, empty exchange folder under the system's temporary directory. Folders left by
    /// kernels that died before dropping theirs are removed first.
    pub fn new() -> Result<Exchange> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        remove_stale(PREFIX);
        let suffix = format!(
            "-{}-{:x}",
            NEXT.fetch_add(1, Ordering::Relaxed),
            // Each evcxr cell has its own counter: the clock keeps two cells' folders apart.
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let dir = path_for_this_process(PREFIX, &suffix);
        // Readable by this user only: what passes through it may be private (a password).
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| HprError::io(format!("creating {}", dir.display()), &e))?;
        Ok(Exchange { dir })
    }

    /// Runs `work` with a new exchange and removes its folder when `work` returns, whatever it
    /// returns: for a cell whose Python results are read once.
    ///
    /// ```
    /// let (kept, folder) = hpr::Exchange::scoped(|exchange| {
    ///     exchange.put("values", &[1.0f64, 2.0])?;
    ///     Ok((exchange.get::<f64>("values")?, exchange.dir().to_path_buf()))
    /// })?;
    /// assert_eq!(kept, [1.0, 2.0]);
    /// assert!(!folder.exists(), "the folder went with the scope");
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    pub fn scoped<T>(work: impl FnOnce(&Exchange) -> Result<T>) -> Result<T> {
        work(&Exchange::new()?)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(HprError::invalid(
                "name",
                format!("`{name}`: use letters, digits, `_` and `-` only"),
            ));
        }
        Ok(self.dir.join(format!("{name}.npy")))
    }

    /// Writes `values` as a one-dimensional array `name`.
    pub fn put<T: NpyElement>(&self, name: &str, values: &[T]) -> Result<()> {
        self.put_shaped(name, values, &[values.len()])
    }

    /// Writes `values` (row-major) as an array of `shape`, e.g. `&[rows, columns]`.
    pub fn put_shaped<T: NpyElement>(
        &self,
        name: &str,
        values: &[T],
        shape: &[usize],
    ) -> Result<()> {
        let path = self.path(name)?;
        let bytes = npy::encode(values, shape)?;
        std::fs::write(&path, bytes)
            .map_err(|e| HprError::io(format!("writing {}", path.display()), &e))
    }

    /// Reads array `name` (any shape) as its values in row-major order, and its shape.
    pub fn get_shaped<T: NpyElement>(&self, name: &str) -> Result<(Vec<T>, Vec<usize>)> {
        let path = self.path(name)?;
        let bytes = std::fs::read(&path).map_err(|e| {
            HprError::io(
                format!("reading `{name}` (did the Python code call save('{name}', ...)?)"),
                &e,
            )
        })?;
        npy::decode(&bytes, name)
    }

    /// Reads array `name` as its values in row-major order.
    pub fn get<T: NpyElement>(&self, name: &str) -> Result<Vec<T>> {
        self.get_shaped(name).map(|(values, _)| values)
    }

    /// Reads `name`, which must hold exactly one value (a NumPy scalar or a one-element array).
    pub fn get_scalar<T: NpyElement>(&self, name: &str) -> Result<T> {
        let (values, shape) = self.get_shaped::<T>(name)?;
        match values.as_slice() {
            [one] => Ok(*one),
            _ => Err(HprError::invalid(
                "name",
                format!(
                    "`{name}` holds {} values (shape {shape:?}), not one",
                    values.len()
                ),
            )),
        }
    }

    /// Python code that sets up `np`, `load(name)` and `save(name, value)` for this folder.
    pub fn prelude(&self) -> String {
        format!(
            "import numpy as np\n\
             _HPR_DIR = {dir:?}\n\
             def load(name):\n    return np.load(_HPR_DIR + '/' + name + '.npy')\n\
             def save(name, value):\n    np.save(_HPR_DIR + '/' + name + '.npy', np.asarray(value))\n",
            dir = self.dir.to_string_lossy()
        )
    }

    /// Runs `script` after the [`prelude`](Exchange::prelude) and returns what it printed.
    pub fn run(&self, script: &str) -> Result<String> {
        python_run(&format!("{}{script}", self.prelude()))
    }

    /// A Python candidate for [`compare`](crate::compare) whose setup can `load` this folder's
    /// arrays.
    pub fn candidate(
        &self,
        name: impl Into<String>,
        setup: &str,
        statement: &str,
    ) -> Result<Candidate<'static>> {
        self.session(setup)?.candidate(name, statement)
    }

    /// A [`PythonSession`] whose setup can `load` this folder's arrays: one interpreter for
    /// several statements on the same data.
    pub fn session(&self, setup: &str) -> Result<PythonSession> {
        PythonSession::start(&format!("{}{setup}", self.prelude()))
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_go_to_python_and_results_come_back() {
        use std::os::unix::fs::PermissionsExt;
        let exchange = Exchange::new().unwrap();
        let mode = std::fs::metadata(exchange.dir())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "the folder is private");
        exchange.put("xs", &[1.5f64, 2.5, 3.0]).unwrap();
        exchange
            .put_shaped("grid", &[1i64, 2, 3, 4, 5, 6], &[2, 3])
            .unwrap();
        exchange
            .run("save('total', load('xs').sum())\nsave('columns', load('grid').sum(axis=0))")
            .unwrap();
        assert_eq!(exchange.get_scalar::<f64>("total").unwrap(), 7.0);
        assert_eq!(exchange.get::<i64>("columns").unwrap(), vec![5, 7, 9]);
        let wrong = exchange
            .get_scalar::<f64>("columns")
            .unwrap_err()
            .to_string();
        assert!(wrong.contains("<i8"), "{wrong}");
        let missing = exchange.get::<f64>("nothing").unwrap_err().to_string();
        assert!(missing.contains("save('nothing'"), "{missing}");
        assert!(exchange.put("../escape", &[1u8]).is_err());
        let dir = exchange.dir().to_owned();
        drop(exchange);
        assert!(!dir.exists(), "the folder is removed on drop");
    }
}
