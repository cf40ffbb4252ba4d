//! A table of measurements as coloured cells: rows × columns with their labels and each value
//! written in its cell (e.g. time by request count × concurrency limit).

use super::heatmap::colormap;
use super::{check_finite, Figure};
use crate::error::{HprError, Result};
use crate::render::html::escape;
use crate::render::units::significant;
use std::fmt::Write as _;

const CELL: (usize, usize) = (72, 30);
const MARGIN_LEFT: usize = 110;
const MARGIN_TOP: usize = 64;

/// A labelled heatmap of a small grid, drawn as SVG: one coloured cell per value (dark purple
/// low, yellow high) with the value written in it.
///
/// ```
/// use hpr::plot::GridChart;
/// use hpr::Render;
/// let chart = GridChart::new("time ÷ ideal")
///     .rows("delay", &["10 ms", "100 ms"])
///     .columns("limit", &["10", "100", "1000"])
///     .values(&[1.2, 1.1, 3.4, 1.0, 1.0, 1.3])
///     .draw()?;
/// assert!(chart.to_html().contains("100 ms"));
/// assert_eq!(chart.to_csv().lines().next(), Some("delay \\ limit,10,100,1000"));
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone)]
pub struct GridChart {
    title: String,
    rows: (String, Vec<String>),
    columns: (String, Vec<String>),
    values: Vec<f64>,
    format: fn(f64) -> String,
}

impl GridChart {
    /// A chart with this title and no data yet.
    pub fn new(title: &str) -> GridChart {
        GridChart {
            title: title.to_owned(),
            rows: (String::new(), Vec::new()),
            columns: (String::new(), Vec::new()),
            values: Vec::new(),
            format: default_format,
        }
    }

    /// What the rows stand for, and one label per row, top to bottom.
    pub fn rows<S: ToString>(mut self, name: &str, labels: &[S]) -> Self {
        self.rows = (name.to_owned(), labels.iter().map(S::to_string).collect());
        self
    }

    /// What the columns stand for, and one label per column, left to right.
    pub fn columns<S: ToString>(mut self, name: &str, labels: &[S]) -> Self {
        self.columns = (name.to_owned(), labels.iter().map(S::to_string).collect());
        self
    }

    /// The values, row by row (`rows × columns` of them).
    pub fn values(mut self, values: &[f64]) -> Self {
        self.values = values.to_vec();
        self
    }

    /// How a value is written in its cell (three significant digits unless set).
    pub fn format(mut self, format: fn(f64) -> String) -> Self {
        self.format = format;
        self
    }

    /// Draws the chart.
    ///
    /// # Errors
    /// When there are no rows or columns, the values do not fill the grid, or one is not finite.
    pub fn draw(&self) -> Result<Figure> {
        let (row_name, row_labels) = &self.rows;
        let (column_name, column_labels) = &self.columns;
        if row_labels.is_empty() || column_labels.is_empty() {
            return Err(HprError::invalid(
                "rows/columns",
                "a grid needs at least one labelled row and one labelled column",
            ));
        }
        let cells = row_labels.len() * column_labels.len();
        if self.values.len() != cells {
            return Err(HprError::invalid(
                "values",
                format!(
                    "{} values do not fill {} rows × {} columns ({cells} needed)",
                    self.values.len(),
                    row_labels.len(),
                    column_labels.len()
                ),
            ));
        }
        check_finite("grid values", self.values.iter().copied())?;
        let svg = self.svg();
        let mut csv = format!("{row_name} \\ {column_name},{}\n", column_labels.join(","));
        for (label, row) in row_labels
            .iter()
            .zip(self.values.chunks(column_labels.len()))
        {
            let row: Vec<String> = row.iter().map(f64::to_string).collect();
            let _ = writeln!(csv, "{label},{}", row.join(","));
        }
        Ok(Figure {
            title: self.title.clone(),
            html: format!(
                "<div style=\"max-width:{}px\">{svg}</div>",
                svg_size(self).0
            ),
            svg: Some(svg),
            csv,
        })
    }

    fn svg(&self) -> String {
        let (width, height) = svg_size(self);
        let (low, high) = self
            .values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let span = if high > low { high - low } else { 1.0 };
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
             <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
            width / 2,
            escape(&self.title)
        );
        let (row_name, row_labels) = &self.rows;
        let (column_name, column_labels) = &self.columns;
        let grid_width = CELL.0 * column_labels.len();
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"38\" text-anchor=\"middle\">{}</text>\
             <text x=\"8\" y=\"{}\" font-style=\"italic\">{}</text>",
            MARGIN_LEFT + grid_width / 2,
            escape(column_name),
            MARGIN_TOP - 8,
            escape(row_name)
        );
        for (column, label) in column_labels.iter().enumerate() {
            let x = MARGIN_LEFT + column * CELL.0 + CELL.0 / 2;
            let _ = write!(
                svg,
                "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                MARGIN_TOP - 8,
                escape(label)
            );
        }
        for (row, label) in row_labels.iter().enumerate() {
            let y = MARGIN_TOP + row * CELL.1;
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                MARGIN_LEFT - 8,
                y + CELL.1 / 2 + 4,
                escape(label)
            );
            for column in 0..column_labels.len() {
                let value = self.values[row * column_labels.len() + column];
                let shade = (value - low) / span;
                let [r, g, b] = colormap(shade);
                let ink = if shade > 0.6 { "black" } else { "white" };
                let x = MARGIN_LEFT + column * CELL.0;
                let _ = write!(
                    svg,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"rgb({r},{g},{b})\" \
                     stroke=\"white\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
                     fill=\"{ink}\">{}</text>",
                    CELL.0,
                    CELL.1,
                    x + CELL.0 / 2,
                    y + CELL.1 / 2 + 4,
                    escape(&(self.format)(value))
                );
            }
        }
        svg.push_str("</svg>");
        svg
    }
}

fn svg_size(chart: &GridChart) -> (usize, usize) {
    let width = MARGIN_LEFT + CELL.0 * chart.columns.1.len() + 16;
    let height = MARGIN_TOP + CELL.1 * chart.rows.1.len() + 16;
    (width, height)
}

/// Three significant digits, without an exponent for the usual range of ratios and times.
fn default_format(value: f64) -> String {
    significant(value, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;

    fn chart() -> GridChart {
        GridChart::new("t <ratio>")
            .rows("delay", &["10 ms", "100 ms"])
            .columns("limit", &[10, 100])
    }

    #[test]
    fn draws_every_cell_with_its_value_and_labels() {
        let figure = chart().values(&[1.0, 2.5, 30.0, 400.0]).draw().unwrap();
        let html = figure.to_html();
        assert_eq!(html.matches("<rect x=").count(), 4);
        for text in [
            "1.00",
            "2.50",
            "30.0",
            "400",
            "10 ms",
            "100 ms",
            "limit",
            "t &lt;ratio&gt;",
        ] {
            assert!(
                html.contains(&format!(">{text}<")),
                "{text} missing: {html}"
            );
        }
        assert_eq!(
            figure.to_csv(),
            "delay \\ limit,10,100\n10 ms,1,2.5\n100 ms,30,400\n"
        );
    }

    #[test]
    fn lowest_is_dark_and_highest_bright() {
        let html = chart()
            .values(&[0.0, 1.0, 2.0, 3.0])
            .draw()
            .unwrap()
            .to_html();
        let [r, g, b] = colormap(0.0);
        assert!(html.contains(&format!("rgb({r},{g},{b})")));
        let [r, g, b] = colormap(1.0);
        assert!(html.contains(&format!("rgb({r},{g},{b})")));
    }

    #[test]
    fn bad_grids_are_refused() {
        assert!(chart().values(&[1.0; 3]).draw().is_err());
        assert!(chart().values(&[1.0, 2.0, f64::NAN, 1.0]).draw().is_err());
        assert!(GridChart::new("x").values(&[1.0]).draw().is_err());
    }

    #[test]
    fn values_keep_three_significant_digits() {
        assert_eq!(default_format(0.0), "0");
        assert_eq!(default_format(1.234), "1.23");
        assert_eq!(default_format(12.34), "12.3");
        assert_eq!(default_format(1234.0), "1234");
        assert_eq!(default_format(0.01234), "0.0123");
        assert_eq!(default_format(2.5e-7), "2.50e-7");
    }
}
