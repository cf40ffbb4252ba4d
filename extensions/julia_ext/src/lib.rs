//! The book's Julia set as a Python extension module, built with PyO3 and maturin: the 3rd
//! edition's last rung, Rust called from Python. The module `julia_ext` offers the book's
//! function on Python lists, the same calculation from the width alone (no lists to convert),
//! and two tiny functions that measure the cost of one call across the boundary.

use pyo3::prelude::*;
use pyo3::types::PyComplex;

/// Iterations before `z` escapes (|z|² ≥ 4), at most `max_iterations`: the book's update rule
/// with Python's complex multiplication, so the counts are the book's.
fn escape_time(z: (f64, f64), c: (f64, f64), max_iterations: u32) -> u32 {
    let ((mut re, mut im), mut n) = (z, 0);
    while re * re + im * im < 4.0 && n < max_iterations {
        (re, im) = (re * re - im * im + c.0, re * im + im * re + c.1);
        n += 1;
    }
    n
}

/// `calculate_z(maxiter, zs, cs)`: the book's function, on lists of Python complex numbers;
/// returns the list of escape counts. The lists are converted on the way in and out.
#[pyfunction]
fn calculate_z(
    maxiter: u32,
    zs: Vec<Bound<'_, PyComplex>>,
    cs: Vec<Bound<'_, PyComplex>>,
) -> Vec<u32> {
    zs.iter()
        .zip(&cs)
        .map(|(z, c)| escape_time((z.real(), z.imag()), (c.real(), c.imag()), maxiter))
        .collect()
}

/// `checksum_from_width(width, maxiter)`: the whole picture computed in Rust from the book's
/// axes (built with the book's `while` loops), returning only the sum of the counts.
#[pyfunction]
fn checksum_from_width(py: Python<'_>, width: usize, maxiter: u32) -> u64 {
    py.detach(|| {
        let step = 3.6 / width as f64;
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        let mut y = 1.8;
        while y > -1.8 {
            ys.push(y);
            y += -step;
        }
        let mut x = -1.8;
        while x < 1.8 {
            xs.push(x);
            x += step;
        }
        let c = (-0.62772, -0.42193);
        let counts = ys.iter().flat_map(|&y| xs.iter().map(move |&x| (x, y)));
        counts.map(|z| u64::from(escape_time(z, c, maxiter))).sum()
    })
}

/// `noop()`: does nothing, to time one call from Python into Rust.
#[pyfunction]
fn noop() {}

/// `add_one(x)`: one integer in, one out, to time a call with a conversion each way.
#[pyfunction]
fn add_one(x: i64) -> i64 {
    x + 1
}

/// The module `julia_ext`.
#[pymodule]
fn julia_ext(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(calculate_z, m)?)?;
    m.add_function(wrap_pyfunction!(checksum_from_width, m)?)?;
    m.add_function(wrap_pyfunction!(noop, m)?)?;
    m.add_function(wrap_pyfunction!(add_one, m)?)?;
    Ok(())
}
