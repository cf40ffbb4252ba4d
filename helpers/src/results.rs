//! A chapter's headline results, recorded so that they outlive the run: the notebook runner
//! gathers them into `build/results/`, compares them with the previous run on the same machine,
//! and shows them in the gallery.

use crate::error::{HprError, Result};
use std::io::Write;

/// Where [`Headline::record`] appends its line; set by the notebook runner (`make run`) for each
/// notebook. Unset (e.g. in JupyterLab), results are printed only.
pub const RESULTS_FILE_ENV: &str = "HPR_RESULTS_FILE";

/// One headline result of a chapter: a named value with its unit and what it compares.
///
/// ```
/// use hpr::Headline;
/// let speedup = 48.3;
/// Headline::new("concurrent crawl speedup", speedup, "×")
///     .compares("tokio with 100 requests in flight against one request at a time")
///     .noise(0.05)
///     .record()?;
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    /// What was measured, unique within the chapter (the key a later run is compared by).
    pub name: String,
    /// The value.
    pub value: f64,
    /// Its unit: "s", "×", "GB/s", "bytes"...
    pub unit: String,
    /// What it compares, in words (empty when it is a plain measurement).
    pub compares: String,
    /// The relative noise of the value when known (e.g. 0.05 for ±5 %): a later run's value
    /// counts as changed only beyond it.
    pub noise: Option<f64>,
}

impl Headline {
    /// A result named `name` worth `value` `unit`.
    pub fn new(name: &str, value: f64, unit: &str) -> Headline {
        Headline {
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
            compares: String::new(),
            noise: None,
        }
    }

    /// What the value compares, e.g. "Rust's closure against pandas' apply on the same rows".
    pub fn compares(mut self, what: &str) -> Self {
        self.compares = what.to_owned();
        self
    }

    /// The value's relative noise, measured in this run (e.g. a comparison's ratio range).
    pub fn noise(mut self, relative: f64) -> Self {
        self.noise = Some(relative);
        self
    }

    /// Prints the result and, under the notebook runner, appends it to the chapter's results.
    ///
    /// # Errors
    /// A NaN or infinite value or noise, an empty name, or a results file that cannot be written.
    pub fn record(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(HprError::invalid("name", "a result needs a name"));
        }
        for (what, value) in [
            ("result value", Some(self.value)),
            ("result noise", self.noise),
        ] {
            if let Some(value) = value.filter(|v| !v.is_finite()) {
                return Err(HprError::NotFinite { what, value });
            }
        }
        println!("{self}");
        let Some(path) = std::env::var_os(RESULTS_FILE_ENV) else {
            return Ok(());
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| HprError::io(format!("opening {}", path.to_string_lossy()), &e))?;
        writeln!(file, "{}", self.to_json())
            .map_err(|e| HprError::io(format!("writing {}", path.to_string_lossy()), &e))
    }

    fn to_json(&self) -> String {
        let noise = self.noise.map_or("null".to_owned(), |n| n.to_string());
        format!(
            "{{\"name\":{},\"value\":{},\"unit\":{},\"compares\":{},\"noise\":{noise}}}",
            json_string(&self.name),
            self.value,
            json_string(&self.unit),
            json_string(&self.compares),
        )
    }
}

impl std::fmt::Display for Headline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "result: {} = {} {}",
            self.name,
            four_digits(self.value),
            self.unit
        )?;
        if !self.compares.is_empty() {
            write!(f, " ({})", self.compares)?;
        }
        Ok(())
    }
}

/// Four significant digits for reading (the file keeps every digit).
fn four_digits(value: f64) -> String {
    crate::render::units::significant(value, 4)
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_one_json_line() {
        let line = Headline::new("speedup \"rayon\"", 1.5, "×")
            .compares("2 threads\nagainst 1")
            .noise(0.1)
            .to_json();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["name"], "speedup \"rayon\"");
        assert_eq!(value["value"], 1.5);
        assert_eq!(value["unit"], "×");
        assert_eq!(value["compares"], "2 threads\nagainst 1");
        assert_eq!(value["noise"], 0.1);
        let plain = Headline::new("n", 3.0, "s").to_json();
        let value: serde_json::Value = serde_json::from_str(&plain).unwrap();
        assert!(value["noise"].is_null());
    }

    #[test]
    fn a_result_reads_with_four_digits() {
        let line = Headline::new("speedup", 2.5874572147, "×").compares("x against y");
        assert_eq!(line.to_string(), "result: speedup = 2.587 × (x against y)");
        assert_eq!(four_digits(1234.5678), "1235");
        assert_eq!(four_digits(0.012345), "0.01235");
        assert_eq!(four_digits(0.0), "0");
        assert_eq!(four_digits(2.5e9), "2.500e9");
    }

    #[test]
    fn bad_results_are_refused() {
        assert!(Headline::new(" ", 1.0, "s").record().is_err());
        assert!(Headline::new("x", f64::NAN, "s").record().is_err());
        assert!(Headline::new("x", 1.0, "s")
            .noise(f64::INFINITY)
            .record()
            .is_err());
    }
}
