//! Showing recorded results: every chapter at a glance, and one aspect's results across
//! chapters as a table with a plot.

use super::headline::{Aspect, Headline};
use super::recorded::{leading_digits, ChapterResults, Results};
use crate::error::{HprError, Result};
use crate::plot::{LineChart, Mark, Scale, Series};
use crate::render::html::{csv_line, notes_html, result_block, Table};
use crate::render::units::significant;
use crate::render::{Figure, Render};
use std::fmt;

/// One recorded result beside the chapter that measured it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The chapter's notebook name, e.g. `03-vec-arrays-tuples`.
    pub chapter: String,
    /// The result.
    pub result: Headline,
}

impl Entry {
    /// The chapter's number as a plot position (`"03"` is 3).
    fn position(&self) -> f64 {
        leading_digits(&self.chapter).parse().unwrap_or(0.0)
    }

    /// This run's value over the book's, when the book gives one.
    pub fn over_book(&self) -> Option<f64> {
        let book = self.result.book.as_ref()?;
        (book.value != 0.0).then(|| self.result.value / book.value)
    }
}

/// What a [`ResultTable`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Aspect(Aspect),
    Book,
}

/// Results from every chapter with one thing in common, as a table and a plot by chapter: see
/// [`Results::table`] and [`Results::book_table`].
#[derive(Debug, Clone, PartialEq)]
pub struct ResultTable {
    /// The table's caption.
    pub title: String,
    /// The results, chapter by chapter.
    pub entries: Vec<Entry>,
    view: View,
}

impl Results {
    /// Every chapter's results of `aspect` as one table with a plot by chapter.
    pub fn table(&self, aspect: Aspect) -> ResultTable {
        let title = match aspect {
            Aspect::AgainstPython => "Rust against Python, chapter by chapter",
            Aspect::MachineLimit => "share of the machine's limits reached",
            Aspect::Memory => "memory saved",
            Aspect::Technique => "one technique against another",
        };
        ResultTable {
            title: title.to_owned(),
            entries: entries(self.of_aspect(aspect)),
            view: View::Aspect(aspect),
        }
    }

    /// The results that carry the book's published figure, beside it.
    pub fn book_table(&self) -> ResultTable {
        ResultTable {
            title: "the book's published figures beside this run's".to_owned(),
            entries: entries(self.with_book_figures()),
            view: View::Book,
        }
    }
}

fn entries(found: Vec<(&ChapterResults, &Headline)>) -> Vec<Entry> {
    found
        .into_iter()
        .map(|(chapter, result)| Entry {
            chapter: chapter.name.clone(),
            result: result.clone(),
        })
        .collect()
}

impl ResultTable {
    /// The values, in table order.
    pub fn values(&self) -> Vec<f64> {
        self.entries.iter().map(|e| e.result.value).collect()
    }

    /// The entry with the smallest value; `None` when there are none.
    pub fn smallest(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .min_by(|a, b| a.result.value.total_cmp(&b.result.value))
    }

    /// The entry with the largest value; `None` when there are none.
    pub fn largest(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .max_by(|a, b| a.result.value.total_cmp(&b.result.value))
    }

    /// The plot: each result at its chapter's number, against the line that means "as fast"
    /// (1×) or "the whole limit" (100 %).
    ///
    /// # Errors
    /// No results, or results whose units cannot share an axis (techniques).
    pub fn plot(&self) -> Result<Figure> {
        if self.entries.is_empty() {
            return Err(HprError::Empty { what: "results" });
        }
        let (points, y_label, reference, scale) = match self.view {
            View::Book => {
                let points = self.points(|e| e.over_book().unwrap_or(f64::NAN));
                (points, "this run ÷ the book", 1.0, Scale::Log)
            }
            View::Aspect(Aspect::MachineLimit) => {
                let points = self.points(|e| e.result.value);
                (points, "% of the limit", 100.0, Scale::Linear)
            }
            View::Aspect(Aspect::AgainstPython | Aspect::Memory) => {
                let points = self.points(|e| e.result.value);
                (points, "times (log scale)", 1.0, Scale::Log)
            }
            View::Aspect(Aspect::Technique) => {
                return Err(HprError::Unsupported {
                    what: "one plot of every technique",
                    reason: "their units differ; the table lists them".to_owned(),
                })
            }
        };
        let name = match self.view {
            View::Aspect(Aspect::MachineLimit) => "the whole limit",
            _ => "1×: the same",
        };
        let first = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let last = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let line = vec![(first - 0.5, reference), (last + 0.5, reference)];
        let reference = Series::new(name, line).mark(Mark::Dashed);
        LineChart::new(&self.title)
            .x_axis("chapter", Scale::Linear)
            .y_axis(y_label, scale)
            .series(Series::new("results", points).mark(Mark::Points))
            .series(reference)
            .draw()
    }

    /// Each entry at its chapter's number, spread a little so that one chapter's results do not
    /// hide each other.
    fn points(&self, value: impl Fn(&Entry) -> f64) -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = Vec::new();
        let mut previous = (f64::NAN, 0);
        for entry in &self.entries {
            let x = entry.position();
            let nth = if x == previous.0 { previous.1 + 1 } else { 0 };
            previous = (x, nth);
            points.push((x + 0.12 * nth as f64, value(entry)));
        }
        points
    }

    fn header(&self) -> Vec<&'static str> {
        match self.view {
            View::Book => vec![
                "chapter",
                "result",
                "this run",
                "the book",
                "÷",
                "the book's figure",
            ],
            View::Aspect(_) => vec!["chapter", "result", "value", "compares"],
        }
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let value = |r: &Headline, v: f64| format!("{} {}", significant(v, 3), r.unit);
        self.entries
            .iter()
            .map(|e| {
                let r = &e.result;
                let mut row = vec![e.chapter.clone(), r.name.clone(), value(r, r.value)];
                match (self.view, &r.book) {
                    (View::Book, Some(book)) => row.extend([
                        value(r, book.value),
                        e.over_book()
                            .map_or("–".into(), |x| format!("{}×", significant(x, 2))),
                        book.source.clone(),
                    ]),
                    _ => row.push(r.compares.clone()),
                }
                row
            })
            .collect()
    }
}

impl Render for ResultTable {
    /// The table and, where the units share an axis, the plot by chapter.
    fn to_html(&self) -> String {
        let mut table = Table::new(&self.title, &self.header());
        for row in self.rows() {
            table.row(row);
        }
        match self.view {
            View::Aspect(Aspect::Technique) => format!("<div>{}</div>", table.to_html()),
            _ => result_block(&table, self.plot(), &[]),
        }
    }

    /// One line per result with the same columns as the table, values unrounded.
    fn to_csv(&self) -> String {
        let mut csv = csv_line([
            "chapter",
            "result",
            "value",
            "unit",
            "compares",
            "book",
            "book_source",
        ]);
        for e in &self.entries {
            let r = &e.result;
            let book = r.book.as_ref();
            csv.push_str(&csv_line([
                e.chapter.as_str(),
                r.name.as_str(),
                &r.value.to_string(),
                r.unit.as_str(),
                r.compares.as_str(),
                &book.map_or(String::new(), |b| b.value.to_string()),
                book.map_or("", |b| b.source.as_str()),
            ]));
        }
        csv
    }
}

impl fmt::Display for ResultTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.title)?;
        for row in self.rows() {
            writeln!(f, "  {}", row.join(" | "))?;
        }
        Ok(())
    }
}

impl Results {
    fn overview_rows(&self) -> Vec<Vec<String>> {
        self.chapters
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    if c.passed { "ok" } else { "failed" }.to_owned(),
                    format!("{:.0} s", c.seconds),
                    c.results.len().to_string(),
                    format!(
                        "{} of {}",
                        c.claims_seen.len(),
                        c.claims_seen.len() + c.claims_not_seen.len()
                    ),
                    c.changed.len().to_string(),
                    c.recorded.replace('T', " "),
                ]
            })
            .collect()
    }
}

const OVERVIEW_HEADER: [&str; 7] = [
    "chapter",
    "status",
    "run time",
    "results",
    "timing claims seen",
    "changed since the run before",
    "recorded",
];

impl Render for Results {
    /// One row per chapter: status, run time, results, claims seen, changes, when.
    fn to_html(&self) -> String {
        let caption = format!("recorded results in {}", self.dir.display());
        let mut table = Table::new(&caption, &OVERVIEW_HEADER);
        for row in self.overview_rows() {
            table.row(row);
        }
        let total: usize = self.chapters.iter().map(|c| c.results.len()).sum();
        let note = format!("{total} results from {} chapters", self.chapters.len());
        format!("<div>{}{}</div>", table.to_html(), notes_html(&[note]))
    }

    /// The same rows as CSV.
    fn to_csv(&self) -> String {
        let mut csv = csv_line(OVERVIEW_HEADER);
        for row in self.overview_rows() {
            csv.push_str(&csv_line(row.iter().map(String::as_str)));
        }
        csv
    }
}

impl fmt::Display for Results {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", OVERVIEW_HEADER.join(" | "))?;
        for row in self.overview_rows() {
            writeln!(f, "{}", row.join(" | "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn chapter(name: &str, results: Vec<Headline>) -> ChapterResults {
        ChapterResults {
            name: name.to_owned(),
            title: name.to_owned(),
            passed: true,
            seconds: 30.0,
            results,
            claims_seen: vec!["a".into()],
            claims_not_seen: vec![],
            changed: vec![],
            machine_key: "k".into(),
            machine_summary: "s".into(),
            recorded: "2026-12-02T18:00:00".into(),
        }
    }

    fn results() -> Results {
        let python = |v| Headline::new("vs Python", v, "×").aspect(Aspect::AgainstPython);
        Results {
            dir: PathBuf::from("build/results"),
            chapters: vec![
                chapter("01-a", vec![python(40.0), python(3.0).book(2.0, "ch. 1")]),
                chapter(
                    "07-b",
                    vec![
                        Headline::new("share", 60.0, "%").aspect(Aspect::MachineLimit),
                        Headline::new("trip", 5e-5, "s"),
                    ],
                ),
            ],
        }
    }

    #[test]
    fn an_aspect_gathers_its_results_from_every_chapter() {
        let results = results();
        let python = results.table(Aspect::AgainstPython);
        assert_eq!(python.values(), [40.0, 3.0]);
        assert_eq!(python.smallest().unwrap().result.value, 3.0);
        assert_eq!(python.largest().unwrap().result.value, 40.0);
        assert!(results.table(Aspect::Memory).largest().is_none());
        let html = python.to_html();
        assert!(html.contains("<table") && html.contains("<svg"), "{html}");
        // One chapter's two results sit side by side, not on top of each other.
        let points = python.points(|e| e.result.value);
        assert!(points[0].0 == 1.0 && points[1].0 > 1.0, "{points:?}");
        let limits = results.table(Aspect::MachineLimit);
        assert!(limits.to_html().contains("<svg"));
        let techniques = results.table(Aspect::Technique);
        assert!(techniques.plot().is_err());
        assert!(!techniques.to_html().contains("<svg"));
        assert!(results.table(Aspect::Memory).plot().is_err());
    }

    #[test]
    fn the_book_table_divides_this_run_by_the_book() {
        let book = results().book_table();
        assert_eq!(book.entries.len(), 1);
        assert_eq!(book.entries[0].over_book(), Some(1.5));
        let rows = book.rows();
        assert_eq!(rows[0][3], "2.00 ×");
        assert_eq!(rows[0][4], "1.5×");
        assert!(
            book.to_csv().contains("01-a,vs Python,3,×,,2,ch. 1"),
            "{}",
            book.to_csv()
        );
    }

    #[test]
    fn the_overview_has_a_row_per_chapter() {
        let results = results();
        let csv = results.to_csv();
        assert_eq!(csv.lines().count(), 3);
        assert!(
            csv.contains("07-b,ok,30 s,2,1 of 1,0,2026-12-02 18:00:00"),
            "{csv}"
        );
        assert!(results.to_html().contains("4 results from 2 chapters"));
    }
}
