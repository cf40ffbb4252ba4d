//! Bar charts with error bars.

use super::{canvas, check_finite, drawing_error, frame, tick_label, Figure, PALETTE};
use crate::error::{HprError, Result};
use crate::render::html::csv_field;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;

/// One bar of a [`bar_chart`], with an error bar from `low` to `high`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label under the bar.
    pub label: String,
    /// Height of the bar.
    pub value: f64,
    /// Bottom of the error bar.
    pub low: f64,
    /// Top of the error bar.
    pub high: f64,
}

impl Bar {
    /// A bar without an error range.
    pub fn new(label: impl Into<String>, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            low: value,
            high: value,
        }
    }
}

/// A bar chart with error bars, e.g. median times with their min–max range. Bars whose range
/// is empty (see [`Bar::new`]) are drawn without one.
///
/// ```
/// use hpr::plot::{bar_chart, Bar};
/// let bars = vec![
///     Bar { label: "loop".into(), value: 2.0, low: 1.8, high: 2.3 },
///     Bar { label: "iter".into(), value: 1.0, low: 0.9, high: 1.2 },
/// ];
/// let figure = bar_chart("time per call", "seconds", &bars).unwrap();
/// assert!(figure.svg.unwrap().contains("loop"));
/// ```
pub fn bar_chart(title: &str, y_label: &str, bars: &[Bar]) -> Result<Figure> {
    if bars.is_empty() {
        return Err(HprError::Empty { what: "bars" });
    }
    check_finite(
        "bar values",
        bars.iter().flat_map(|b| [b.value, b.low, b.high]),
    )?;
    let top = bars
        .iter()
        .map(|b| b.value.max(b.high))
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let bottom = bars
        .iter()
        .map(|b| b.value.min(b.low))
        .fold(0.0_f64, f64::min);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = frame(&root, title, 70)
            // plotters' integer ranges include their end: 0..n-1 gives exactly n segments.
            .build_cartesian_2d((0..bars.len() - 1).into_segmented(), bottom..top)
            .map_err(drawing_error)?;
        let label_of = |value: &SegmentValue<usize>| match value {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                bars.get(*i).map(|b| b.label.clone()).unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len())
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v| tick_label(*v))
            .y_desc(y_label)
            .draw()
            .map_err(drawing_error)?;
        draw_bars(&mut chart, bars)?;
        root.present().map_err(drawing_error)?;
    }
    let mut csv = String::from("label,value,low,high\n");
    for bar in bars {
        let label = csv_field(&bar.label);
        csv.push_str(&format!("{label},{},{},{}\n", bar.value, bar.low, bar.high));
    }
    Ok(Figure::from_svg(title, svg, csv))
}

type BarCoords = Cartesian2d<SegmentedCoord<RangedCoordusize>, RangedCoordf64>;

fn draw_bars(chart: &mut ChartContext<'_, SVGBackend<'_>, BarCoords>, bars: &[Bar]) -> Result<()> {
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let color = PALETTE[i % PALETTE.len()];
            let mut rect = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), bar.value),
                ],
                color.mix(0.7).filled(),
            );
            rect.set_margin(0, 0, 12, 12);
            rect
        }))
        .map_err(drawing_error)?;
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, bar)| bar.low < bar.high)
                .map(|(i, bar)| {
                    ErrorBar::new_vertical(
                        SegmentValue::CenterOf(i),
                        bar.low,
                        bar.value,
                        bar.high,
                        BLACK.stroke_width(2),
                        12,
                    )
                }),
        )
        .map_err(drawing_error)?;
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;

    #[test]
    fn bar_chart_draws_labels_and_error_bars() {
        let bars = vec![
            Bar {
                label: "first".into(),
                value: 3.0,
                low: 2.5,
                high: 3.5,
            },
            Bar {
                label: "second".into(),
                value: 1.0,
                low: 0.9,
                high: 1.1,
            },
        ];
        let svg = bar_chart("t", "s", &bars).unwrap().svg.unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("first") && svg.contains("second"));
        let csv = bar_chart("t", "s", &bars).unwrap().to_csv();
        assert_eq!(
            csv,
            "label,value,low,high\nfirst,3,2.5,3.5\nsecond,1,0.9,1.1\n"
        );
        assert!(bar_chart("t", "s", &[]).is_err());
        let one = [Bar {
            label: "only".into(),
            value: 1.0,
            low: 1.0,
            high: 1.0,
        }];
        assert!(bar_chart("t", "s", &one)
            .unwrap()
            .svg
            .unwrap()
            .contains("only"));
        let nan = vec![Bar {
            label: "x".into(),
            value: f64::NAN,
            low: 0.0,
            high: 1.0,
        }];
        assert!(matches!(
            bar_chart("t", "s", &nan),
            Err(HprError::NotFinite { .. })
        ));
    }
}
