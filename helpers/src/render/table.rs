//! A table a notebook fills in: named rows, columns with units, shown like every result.

use super::html::{csv_line, Table as HtmlTable};
use super::units::{format_bytes, format_duration, format_percent, significant};
use super::Render;
use crate::error::{HprError, Result};
use std::fmt;

/// How a column shows its numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Count,
    Bytes,
    Seconds,
    Ratio,
    Percent,
    Number { decimals: usize },
}

impl Unit {
    fn show(self, value: f64) -> String {
        match self {
            Unit::Count => group_thousands(value.round() as i64),
            Unit::Bytes => format_bytes(value.round() as i64),
            Unit::Seconds => format_duration(value),
            Unit::Ratio => format!("{}×", significant(value, 3)),
            Unit::Percent => format_percent(value),
            Unit::Number { decimals } => format!("{value:.decimals$}"),
        }
    }
}

/// `1234567` as `1,234,567`.
fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// A table of named rows and columns with units, for what a chapter measures itself: it shows
/// as HTML in Jupyter, exports raw numbers as CSV, prints aligned as text, and gives its numbers
/// back by row and column name.
///
/// ```
/// use hpr::prelude::*;
/// let mut table = Table::new("two ways to store 1,000 flags", "layout")
///     .bytes("memory")
///     .seconds("count")
///     .ratio("against bools");
/// table.row("Vec<bool>", [1000.0, 2e-7, 1.0])?;
/// table.row("bit set", [128.0, 2e-8, 0.1])?;
/// assert_eq!(table.value("bit set", "memory")?, 128.0);
/// assert!(table.value("bit set", "speed").is_err(), "no such column");
/// assert!(table.row("bytes", [1.0]).is_err(), "three values per row");
/// assert!(table.row("bytes", [1.0, f64::NAN, 1.0]).is_err(), "finite values only");
/// assert!(table.to_string().contains("bit set"));
/// assert!(table.to_csv().starts_with("layout,memory,count,against bools\n"));
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    title: String,
    label: String,
    columns: Vec<(String, Unit)>,
    rows: Vec<(String, Vec<f64>)>,
}

impl Table {
    /// An empty table titled `title`, whose first column, named `label`, names each row.
    pub fn new(title: impl Into<String>, label: impl Into<String>) -> Table {
        Table {
            title: title.into(),
            label: label.into(),
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn column(mut self, name: impl Into<String>, unit: Unit) -> Table {
        self.columns.push((name.into(), unit));
        self
    }

    /// A column of counts, shown as whole numbers with thousands separated.
    pub fn count(self, name: impl Into<String>) -> Table {
        self.column(name, Unit::Count)
    }

    /// A column of bytes, shown in B, KiB, MiB or GiB.
    pub fn bytes(self, name: impl Into<String>) -> Table {
        self.column(name, Unit::Bytes)
    }

    /// A column of seconds, shown in the unit that suits each value (ns to s).
    pub fn seconds(self, name: impl Into<String>) -> Table {
        self.column(name, Unit::Seconds)
    }

    /// A column of ratios, shown as `2.35×`.
    pub fn ratio(self, name: impl Into<String>) -> Table {
        self.column(name, Unit::Ratio)
    }

    /// A column of fractions, shown as percentages (0.25 is `25.0%`).
    pub fn percent(self, name: impl Into<String>) -> Table {
        self.column(name, Unit::Percent)
    }

    /// A column of plain numbers with `decimals` digits after the point.
    pub fn number(self, name: impl Into<String>, decimals: usize) -> Table {
        self.column(name, Unit::Number { decimals })
    }

    /// Adds the row `label` with one value per column, in the columns' order. Fails when the
    /// count differs from the columns', when a value is NaN or infinite, or when a row of that
    /// name exists already (rows are read back by name).
    pub fn row(
        &mut self,
        label: impl Into<String>,
        values: impl IntoIterator<Item = f64>,
    ) -> Result<&mut Table> {
        let label = label.into();
        let values: Vec<f64> = values.into_iter().collect();
        if values.len() != self.columns.len() {
            return Err(HprError::invalid(
                "values",
                format!(
                    "row `{label}` has {} values for the {} columns {:?}",
                    values.len(),
                    self.columns.len(),
                    self.column_names()
                ),
            ));
        }
        if let Some(&bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(HprError::NotFinite {
                what: "a table value",
                value: bad,
            });
        }
        if self.rows.iter().any(|(name, _)| *name == label) {
            return Err(HprError::invalid(
                "label",
                format!("the table has a row named `{label}` already"),
            ));
        }
        self.rows.push((label, values));
        Ok(self)
    }

    /// The value in row `label`, column `column`; fails naming the rows or columns there are.
    pub fn value(&self, label: &str, column: &str) -> Result<f64> {
        let index = self
            .columns
            .iter()
            .position(|(name, _)| name == column)
            .ok_or_else(|| {
                HprError::invalid(
                    "column",
                    format!(
                        "no column is named `{column}`; the columns are {:?}",
                        self.column_names()
                    ),
                )
            })?;
        let (_, values) = self
            .rows
            .iter()
            .find(|(name, _)| name == label)
            .ok_or_else(|| {
                let labels: Vec<&str> = self.rows.iter().map(|(name, _)| name.as_str()).collect();
                HprError::invalid(
                    "label",
                    format!("no row is named `{label}`; the rows are {labels:?}"),
                )
            })?;
        Ok(values[index])
    }

    fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The header and every row as shown text, label first.
    fn shown(&self) -> (Vec<&str>, Vec<Vec<String>>) {
        let mut header = vec![self.label.as_str()];
        header.extend(self.column_names());
        let rows = self
            .rows
            .iter()
            .map(|(label, values)| {
                let mut cells = vec![label.clone()];
                cells.extend(
                    values
                        .iter()
                        .zip(&self.columns)
                        .map(|(&value, (_, unit))| unit.show(value)),
                );
                cells
            })
            .collect();
        (header, rows)
    }
}

impl Render for Table {
    fn to_html(&self) -> String {
        let (header, rows) = self.shown();
        let mut table = HtmlTable::new(&self.title, &header);
        for row in rows {
            table.row(row);
        }
        format!("<div>{}</div>", table.to_html())
    }

    /// The label and the raw numbers (bytes, seconds, fractions), one line per row.
    fn to_csv(&self) -> String {
        let (header, _) = self.shown();
        let mut csv = csv_line(header);
        for (label, values) in &self.rows {
            let numbers: Vec<String> = values.iter().map(f64::to_string).collect();
            csv.push_str(&csv_line(
                std::iter::once(label.as_str()).chain(numbers.iter().map(String::as_str)),
            ));
        }
        csv
    }
}

/// The title, then the columns aligned: the label to the left, numbers to the right.
impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (header, rows) = self.shown();
        let header: Vec<String> = header.into_iter().map(str::to_owned).collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                std::iter::once(&header)
                    .chain(&rows)
                    .map(|row| row[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        writeln!(f, "{}", self.title)?;
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if i == 0 {
                    line.push_str(&format!("{cell:<width$}"));
                } else {
                    line.push_str(&format!("  {cell:>width$}"));
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> Table {
        let mut table = Table::new("flags", "layout").bytes("memory").count("calls");
        table.row("bools", [8_388_608.0, 1_234_567.0]).unwrap();
        table.row("bits <1>", [1_048_576.0, 12.0]).unwrap();
        table
    }

    #[test]
    fn shows_units_and_aligns_columns() {
        let text = flags().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "flags");
        assert_eq!(lines[1], "layout      memory      calls");
        assert_eq!(lines[2], "bools     8.00 MiB  1,234,567");
        assert_eq!(lines[3], "bits <1>  1.00 MiB         12");
    }

    #[test]
    fn exports_raw_numbers_and_escaped_html() {
        let table = flags();
        assert_eq!(
            table.to_csv(),
            "layout,memory,calls\nbools,8388608,1234567\nbits <1>,1048576,12\n"
        );
        let html = table.to_html();
        assert!(
            html.contains("bits &lt;1&gt;") && html.contains("8.00 MiB"),
            "{html}"
        );
        assert!(!html.contains("bits <1>"), "labels are escaped");
    }

    #[test]
    fn reads_back_by_name_and_refuses_a_second_row_of_one_name() {
        let mut table = flags();
        assert_eq!(table.value("bools", "calls").unwrap(), 1_234_567.0);
        let missing = table.value("words", "calls").unwrap_err().to_string();
        assert!(
            missing.contains("\"bools\"") && missing.contains("\"bits <1>\""),
            "{missing}"
        );
        assert!(table.row("bools", [1.0, 2.0]).is_err());
        assert_eq!(group_thousands(-1_000), "-1,000");
        assert_eq!(Unit::Percent.show(0.25), "25.0%");
        assert_eq!(Unit::Number { decimals: 2 }.show(1.23456), "1.23");
        assert_eq!(Unit::Ratio.show(2.354), "2.35×");
    }
}
