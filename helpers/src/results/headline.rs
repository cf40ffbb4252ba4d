//! Recording a chapter's headline results so that they outlive the run: the notebook runner
//! gathers them into `build/results/`, compares them with the previous run on the same machine,
//! and shows them in the gallery; chapter 13 reads them back.

use crate::error::{HprError, Result};
use std::io::Write;

/// Where [`Headline::record`] appends its line; set by the notebook runner (`make run`) for each
/// notebook. Unset (e.g. in JupyterLab), results are printed only.
pub const RESULTS_FILE_ENV: &str = "HPR_RESULTS_FILE";

/// What a headline result is about: chapter 13 groups the results of every chapter by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aspect {
    /// Rust against the Python baseline doing the same work (unit `×`: how many times faster
    /// or smaller the Rust side is).
    AgainstPython,
    /// A share of one of the machine's measured limits (unit `%`): bandwidth, peak, an ideal.
    MachineLimit,
    /// Memory saved by a representation (unit `×`: how many times less memory).
    Memory,
    /// Anything else: one technique against another, a cost, a count. The default.
    Technique,
}

impl Aspect {
    /// Every aspect, in the order chapter 13 shows them.
    pub const ALL: [Aspect; 4] = [
        Aspect::AgainstPython,
        Aspect::MachineLimit,
        Aspect::Memory,
        Aspect::Technique,
    ];

    /// The name in the results files: `against_python`, `machine_limit`, `memory`, `technique`.
    pub fn key(self) -> &'static str {
        match self {
            Aspect::AgainstPython => "against_python",
            Aspect::MachineLimit => "machine_limit",
            Aspect::Memory => "memory",
            Aspect::Technique => "technique",
        }
    }

    /// The aspect whose [`key`](Aspect::key) is `key`.
    pub fn from_key(key: &str) -> Option<Aspect> {
        Aspect::ALL.into_iter().find(|aspect| aspect.key() == key)
    }

    /// The unit every result of this aspect must have, if any.
    fn required_unit(self) -> Option<&'static str> {
        match self {
            Aspect::AgainstPython | Aspect::Memory => Some("×"),
            Aspect::MachineLimit => Some("%"),
            Aspect::Technique => None,
        }
    }
}

/// The book's published figure for the same measure, in the same unit, and where it is from.
#[derive(Debug, Clone, PartialEq)]
pub struct BookFigure {
    /// The book's value.
    pub value: f64,
    /// Where the book gives it and how it was measured, e.g. "chapter 9, asyncio crawler, 1,000
    /// requests at 100 ms".
    pub source: String,
}

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
    /// What the result is about (chapter 13's grouping).
    pub aspect: Aspect,
    /// The book's figure for the same measure, where the book gives one.
    pub book: Option<BookFigure>,
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
            aspect: Aspect::Technique,
            book: None,
        }
    }

    /// What the result is about; [`Aspect::AgainstPython`] and [`Aspect::Memory`] need the unit
    /// `×`, [`Aspect::MachineLimit`] needs `%` ([`record`](Headline::record) checks).
    pub fn aspect(mut self, aspect: Aspect) -> Self {
        self.aspect = aspect;
        self
    }

    /// The book's published `value` for the same measure in the same unit, and its `source`.
    pub fn book(mut self, value: f64, source: &str) -> Self {
        self.book = Some(BookFigure {
            value,
            source: source.to_owned(),
        });
        self
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
    /// A NaN or infinite value, noise or book figure, an empty name, a unit that does not fit
    /// the aspect (or a ratio that is not positive), or a results file that cannot be written.
    pub fn record(&self) -> Result<()> {
        self.check()?;
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

    /// Records every headline of a chapter ([`Headline::record`]), then prints how many, as the
    /// "What this shows" line of the cell that records them.
    ///
    /// ```
    /// use hpr::Headline;
    /// Headline::record_all(&[
    ///     Headline::new("sum speedup", 3.0, "×").compares("iter().sum() against a loop"),
    ///     Headline::new("peak heap", 8e6, "B"),
    /// ])?;
    /// assert!(Headline::record_all(&[Headline::new("", 1.0, "×")]).is_err(), "a name is needed");
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    ///
    /// # Errors
    /// The first headline that [`record`](Headline::record) would refuse; then none is recorded.
    pub fn record_all(headlines: &[Headline]) -> Result<()> {
        for headline in headlines {
            headline.check()?;
        }
        for headline in headlines {
            headline.record()?;
        }
        println!(
            "What this shows: {} headline results recorded",
            headlines.len()
        );
        Ok(())
    }

    fn check(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(HprError::invalid("name", "a result needs a name"));
        }
        let book = self.book.as_ref().map(|b| b.value);
        for (what, value) in [
            ("result value", Some(self.value)),
            ("result noise", self.noise),
            ("book figure", book),
        ] {
            if let Some(value) = value.filter(|v| !v.is_finite()) {
                return Err(HprError::NotFinite { what, value });
            }
        }
        if let Some(unit) = self.aspect.required_unit() {
            if self.unit != unit {
                return Err(HprError::invalid(
                    "unit",
                    format!(
                        "the result {:?} is {:?}, so its unit must be {unit:?}, not {:?}",
                        self.name,
                        self.aspect.key(),
                        self.unit
                    ),
                ));
            }
        }
        if self.unit == "×" && self.value <= 0.0 {
            return Err(HprError::invalid(
                "value",
                format!(
                    "the ratio {:?} is {}: a ratio must be positive",
                    self.name, self.value
                ),
            ));
        }
        Ok(())
    }

    fn to_json(&self) -> String {
        let noise = self.noise.map_or("null".to_owned(), |n| n.to_string());
        let book = self.book.as_ref().map_or("null".to_owned(), |b| {
            format!(
                "{{\"value\":{},\"source\":{}}}",
                b.value,
                json_string(&b.source)
            )
        });
        format!(
            "{{\"name\":{},\"value\":{},\"unit\":{},\"compares\":{},\"noise\":{noise},\
             \"aspect\":{},\"book\":{book}}}",
            json_string(&self.name),
            self.value,
            json_string(&self.unit),
            json_string(&self.compares),
            json_string(self.aspect.key()),
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
        assert_eq!(value["aspect"], "technique");
        assert!(value["book"].is_null());
        let plain = Headline::new("n", 3.0, "s").to_json();
        let value: serde_json::Value = serde_json::from_str(&plain).unwrap();
        assert!(value["noise"].is_null());
        let booked = Headline::new("crawl", 1.2, "s")
            .aspect(Aspect::Technique)
            .book(1.1, "chapter 9")
            .to_json();
        let value: serde_json::Value = serde_json::from_str(&booked).unwrap();
        assert_eq!(value["book"]["value"], 1.1);
        assert_eq!(value["book"]["source"], "chapter 9");
    }

    #[test]
    fn aspects_round_trip_through_their_keys() {
        for aspect in Aspect::ALL {
            assert_eq!(Aspect::from_key(aspect.key()), Some(aspect));
        }
        assert_eq!(Aspect::from_key("speed"), None);
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
        assert!(Headline::new("x", 1.0, "s")
            .book(f64::NAN, "nowhere")
            .record()
            .is_err());
        let wrong_unit = Headline::new("x", 50.0, "×")
            .aspect(Aspect::MachineLimit)
            .check();
        assert!(wrong_unit.unwrap_err().to_string().contains("\"%\""));
        let python_in_seconds = Headline::new("x", 2.0, "s").aspect(Aspect::AgainstPython);
        assert!(python_in_seconds.check().is_err());
        assert!(Headline::new("x", 0.0, "×").check().is_err());
        assert!(Headline::new("x", 3.0, "×")
            .aspect(Aspect::Memory)
            .check()
            .is_ok());
    }
}
