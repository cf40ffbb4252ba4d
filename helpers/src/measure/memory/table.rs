//! Several memory measurements side by side.

use super::memit::MemoryUsage;
use crate::error::{HprError, Result};
use crate::render::html::{csv_line, Table};
use crate::render::Render;
use std::fmt;

/// Several [`MemoryUsage`] results side by side, one column each: a cell shows only its last
/// value, so comparisons of allocation strategies go in one table.
///
/// ```
/// let small = hpr::memit_named("small", || vec![0u8; 10]).unwrap();
/// let large = hpr::memit_named("large", || vec![0u8; 1000]).unwrap();
/// let table = hpr::MemoryTable::new(vec![small, large]);
/// use hpr::Render;
/// assert!(table.to_html().contains("large"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryTable {
    /// The results, in column order.
    pub results: Vec<MemoryUsage>,
}

impl MemoryTable {
    /// A table of `results`.
    pub fn new(results: Vec<MemoryUsage>) -> MemoryTable {
        MemoryTable { results }
    }

    /// The result named `name`; the error lists the names there are.
    ///
    /// ```
    /// let table = hpr::MemoryTable::new(vec![hpr::memit_named("boxed", || Box::new(1u64)).unwrap()]);
    /// assert_eq!(table.row("boxed").unwrap().allocations, Some(1));
    /// assert!(table.row("unboxed").is_err());
    /// ```
    pub fn row(&self, name: &str) -> Result<&MemoryUsage> {
        self.results.iter().find(|r| r.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.results.iter().map(|r| r.name.as_str()).collect();
            HprError::invalid(
                "name",
                format!("no measurement is named `{name}`; the table has {names:?}"),
            )
        })
    }
}

impl Render for MemoryTable {
    /// The table, one row per measure and one column per result.
    fn to_html(&self) -> String {
        let mut header = vec!["measure"];
        header.extend(self.results.iter().map(|r| r.name.as_str()));
        let mut table = Table::new("memory", &header);
        let columns: Vec<Vec<(&'static str, String)>> =
            self.results.iter().map(MemoryUsage::rows).collect();
        if let Some(first) = columns.first() {
            for (index, (label, _)) in first.iter().enumerate() {
                let mut row = vec![(*label).to_owned()];
                row.extend(columns.iter().map(|column| column[index].1.clone()));
                table.row(row);
            }
        }
        table.to_html()
    }

    /// One line per measure, one column per result, raw numbers.
    fn to_csv(&self) -> String {
        let mut header = vec!["measure"];
        header.extend(self.results.iter().map(|r| r.name.as_str()));
        let mut csv = csv_line(header);
        let columns: Vec<[(&str, String); 9]> =
            self.results.iter().map(MemoryUsage::raw_values).collect();
        for index in 0..9 {
            let measure = columns.first().map_or("", |c| c[index].0);
            let values = columns.iter().map(|c| c[index].1.as_str());
            csv.push_str(&csv_line(std::iter::once(measure).chain(values)));
        }
        csv
    }
}

impl fmt::Display for MemoryTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for result in &self.results {
            writeln!(f, "{result}")?;
        }
        Ok(())
    }
}
