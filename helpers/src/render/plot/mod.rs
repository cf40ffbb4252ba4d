//! Plots as inline SVG (plotters, no system fonts needed) and heatmaps as embedded PNG.
//!
//! Every chart returns a [`Figure`], which renders like any other result: its HTML in a cell,
//! the plotted numbers as CSV.

mod bar;
mod grid;
mod heatmap;
mod histogram;
mod line;

pub use bar::{bar_chart, Bar};
pub use grid::GridChart;
pub use heatmap::heatmap;
pub use histogram::histogram;
pub use line::{LineChart, Mark, Series};

use crate::error::{HprError, Result};
use crate::render::Render;
use plotters::prelude::*;
use std::fmt;

const SIZE: (u32, u32) = (640, 400);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// A rendered plot: shown inline by Jupyter, saved to a file, or exported as the numbers it
/// plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The plot's title.
    pub title: String,
    /// The SVG document, for plots drawn as vectors.
    pub svg: Option<String>,
    html: String,
    csv: String,
}

impl Figure {
    fn from_svg(title: &str, svg: String, csv: String) -> Figure {
        Figure {
            title: title.to_owned(),
            html: format!("<div style=\"max-width:{}px\">{svg}</div>", SIZE.0),
            svg: Some(svg),
            csv,
        }
    }

    /// Writes the plot to `path`: the SVG document if there is one, the HTML fragment otherwise.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        let content = self.svg.as_deref().unwrap_or(&self.html);
        std::fs::write(path, content)
            .map_err(|e| HprError::io(format!("writing {}", path.display()), &e))
    }
}

impl Render for Figure {
    /// The HTML fragment shown in the notebook.
    fn to_html(&self) -> String {
        self.html.clone()
    }

    /// The plotted numbers: points, bars, bin counts or the (downsampled) grid.
    fn to_csv(&self) -> String {
        self.csv.clone()
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.svg.is_some() { "SVG" } else { "PNG" };
        writeln!(f, "figure \"{}\" ({kind})", self.title)
    }
}

fn drawing_error(error: impl fmt::Display) -> HprError {
    HprError::Draw {
        what: "the plot".into(),
        message: error.to_string(),
    }
}

fn check_finite(what: &'static str, values: impl IntoIterator<Item = f64>) -> Result<()> {
    match values.into_iter().find(|v| !v.is_finite()) {
        Some(value) => Err(HprError::NotFinite { what, value }),
        None => Ok(()),
    }
}

/// Short tick labels: `1e-6`, `250`, `0.5`.
fn tick_label(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.0e}")
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A tick's label: [`tick_label`] on a linear axis (`decades` is `None`). On a logarithmic one,
/// plotters ticks every 1 to 9 times a power of ten, whose labels crowd at the top of each decade:
/// only 1, 2 and 5 times a power of ten are labelled, and only powers of ten past two decades.
fn axis_tick(value: f64, decades: Option<f64>) -> String {
    let Some(decades) = decades else {
        return tick_label(value);
    };
    if value <= 0.0 {
        return String::new();
    }
    let mantissa = value / 10f64.powf(value.log10().floor());
    let kept: &[f64] = if decades > 2.0 {
        &[1.0, 10.0]
    } else {
        &[1.0, 2.0, 5.0, 10.0]
    };
    if kept.iter().any(|k| (mantissa - k).abs() < 1e-6 * k) {
        tick_label(value)
    } else {
        String::new()
    }
}

/// The SVG without a second copy of any text element: plotters' log axes can put two ticks on
/// one value (10 from one decade and 10.000000001 from the next), which draws their label twice
/// in one place.
fn without_repeated_text(svg: &str) -> String {
    let mut kept = String::with_capacity(svg.len());
    let mut seen = std::collections::HashSet::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        let Some(length) = rest[start..].find("</text>") else {
            break;
        };
        let end = start + length + "</text>".len();
        kept.push_str(&rest[..start]);
        if seen.insert(&rest[start..end]) {
            kept.push_str(&rest[start..end]);
        }
        rest = &rest[end..];
    }
    kept.push_str(rest);
    kept
}

/// A white SVG canvas of the standard size, drawing into `svg`.
fn canvas(svg: &mut String) -> Result<DrawingArea<SVGBackend<'_>, plotters::coord::Shift>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(drawing_error)?;
    Ok(root)
}

/// The frame every chart shares: title, margins and label areas.
fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    y_label_area: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(y_label_area);
    builder
}

/// Linear or logarithmic axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced powers of ten; every value must be positive.
    Log,
}

/// The plotted range of one axis, padded a little; log axes need positive values.
fn axis_range(axis: &str, values: impl Iterator<Item = f64>, scale: Scale) -> Result<(f64, f64)> {
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    match scale {
        Scale::Log => {
            if low <= 0.0 {
                return Err(HprError::invalid(
                    "series",
                    format!("a log {axis} axis needs positive values, but one is {low}"),
                ));
            }
            if low == high {
                low /= 2.0;
                high *= 2.0;
            }
            Ok((low / 1.2, high * 1.2))
        }
        Scale::Linear => {
            if low == high {
                low -= 1.0;
                high += 1.0;
            }
            let pad = (high - low) * 0.05;
            Ok((low - pad, high + pad))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(250.0), "250");
        assert_eq!(tick_label(1e-6), "1e-6");
        assert_eq!(tick_label(0.0), "0");
    }

    #[test]
    fn a_text_drawn_twice_in_one_place_is_kept_once() {
        let twice = "<svg><text x=\"1\">10</text><line/><text x=\"1\">10</text>\
                     <text x=\"2\">10</text></svg>";
        assert_eq!(
            without_repeated_text(twice),
            "<svg><text x=\"1\">10</text><line/><text x=\"2\">10</text></svg>"
        );
    }

    #[test]
    fn log_axes_label_round_values_only() {
        assert_eq!(axis_tick(900.0, None), "900");
        assert_eq!(axis_tick(900.0, Some(1.0)), "");
        assert_eq!(axis_tick(1000.0, Some(1.0)), "1000");
        assert_eq!(axis_tick(999.9999999, Some(1.0)), "1000");
        assert_eq!(axis_tick(0.5, Some(1.5)), "0.5");
        assert_eq!(axis_tick(0.5, Some(3.0)), "");
        assert_eq!(axis_tick(0.01, Some(3.0)), "0.01");
    }
}
