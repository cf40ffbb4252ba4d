//! Plots as inline SVG (plotters, no system fonts needed) and heatmaps as embedded PNG.

use crate::error::{HprError, Result};
use crate::html::{display_in_jupyter, escape};
use base64::Engine as _;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;

const SIZE: (u32, u32) = (640, 400);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// A rendered plot: shown inline by Jupyter, or saved to a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The plot's title.
    pub title: String,
    /// The SVG document, for plots drawn as vectors.
    pub svg: Option<String>,
    html: String,
}

impl Figure {
    fn from_svg(title: &str, svg: String) -> Figure {
        Figure {
            title: title.to_owned(),
            html: format!("<div style=\"max-width:{}px\">{svg}</div>", SIZE.0),
            svg: Some(svg),
        }
    }

    /// The HTML fragment shown in the notebook.
    pub fn to_html(&self) -> String {
        self.html.clone()
    }

    /// Writes the plot to `path`: the SVG document if there is one, the HTML fragment otherwise.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        let content = self.svg.as_deref().unwrap_or(&self.html);
        std::fs::write(path, content)
            .map_err(|e| HprError::io(format!("writing {}", path.display()), &e))
    }
}

display_in_jupyter!(Figure);

fn drawing_error(error: impl std::fmt::Display) -> HprError {
    HprError::Io {
        context: "drawing the plot".into(),
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
    Ok(Figure::from_svg(title, svg))
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

/// Linear or logarithmic axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced powers of ten; every value must be positive.
    Log,
}

/// How a [`Series`] is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Points joined by a line.
    LineAndPoints,
    /// A line only (a fitted curve, a model).
    Line,
    /// A dashed line (a bound or reference).
    Dashed,
}

/// One named series of (x, y) points of a [`line_chart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Name shown in the legend.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// How to draw it.
    pub mark: Mark,
}

impl Series {
    /// A series drawn as points joined by a line.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            mark: Mark::LineAndPoints,
        }
    }

    /// The same series drawn with another mark.
    pub fn mark(mut self, mark: Mark) -> Series {
        self.mark = mark;
        self
    }
}

/// A line chart of one or more series, each axis linear or logarithmic.
///
/// ```
/// use hpr::plot::{line_chart, Scale, Series};
/// let n: Vec<f64> = vec![10.0, 100.0, 1000.0];
/// let series = Series::new("t", n.iter().map(|&n| (n, n * 1e-9)).collect());
/// let figure = line_chart("time", "n", "seconds", &[series], Scale::Log, Scale::Log).unwrap();
/// assert!(figure.svg.is_some());
/// ```
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    x_scale: Scale,
    y_scale: Scale,
) -> Result<Figure> {
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    if points.is_empty() {
        return Err(HprError::Empty { what: "points" });
    }
    check_finite("plotted values", points.iter().flat_map(|&(x, y)| [x, y]))?;
    let x_range = axis_range("x", points.iter().map(|p| p.0), x_scale)?;
    let y_range = axis_range("y", points.iter().map(|p| p.1), y_scale)?;
    let mut svg = String::new();
    {
        let labels = (title, x_label, y_label);
        match (x_scale, y_scale) {
            (Scale::Linear, Scale::Linear) => draw_lines(
                &mut svg,
                labels,
                series,
                x_range.0..x_range.1,
                y_range.0..y_range.1,
            ),
            (Scale::Log, Scale::Linear) => draw_lines(
                &mut svg,
                labels,
                series,
                (x_range.0..x_range.1).log_scale(),
                y_range.0..y_range.1,
            ),
            (Scale::Linear, Scale::Log) => draw_lines(
                &mut svg,
                labels,
                series,
                x_range.0..x_range.1,
                (y_range.0..y_range.1).log_scale(),
            ),
            (Scale::Log, Scale::Log) => draw_lines(
                &mut svg,
                labels,
                series,
                (x_range.0..x_range.1).log_scale(),
                (y_range.0..y_range.1).log_scale(),
            ),
        }?;
    }
    Ok(Figure::from_svg(title, svg))
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

fn draw_lines<X, Y>(
    svg: &mut String,
    (title, x_label, y_label): (&str, &str, &str),
    series: &[Series],
    x: X,
    y: Y,
) -> Result<()>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let root = canvas(svg)?;
    let mut chart = frame(&root, title, 70)
        .build_cartesian_2d(x, y)
        .map_err(drawing_error)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .draw()
        .map_err(drawing_error)?;
    for (index, one) in series.iter().enumerate() {
        let color = PALETTE[index % PALETTE.len()];
        let style = color.stroke_width(2);
        let legend = move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + 20, y)], style);
        match one.mark {
            Mark::Dashed => chart
                .draw_series(DashedLineSeries::new(
                    one.points.iter().copied(),
                    6,
                    4,
                    style,
                ))
                .map_err(drawing_error)?
                .label(one.name.as_str())
                .legend(legend),
            Mark::Line | Mark::LineAndPoints => chart
                .draw_series(LineSeries::new(one.points.iter().copied(), style))
                .map_err(drawing_error)?
                .label(one.name.as_str())
                .legend(legend),
        };
        if one.mark == Mark::LineAndPoints {
            chart
                .draw_series(
                    one.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, color.filled())),
                )
                .map_err(drawing_error)?;
        }
    }
    if series.iter().any(|s| !s.name.is_empty()) {
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.85))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(drawing_error)?;
    }
    root.present().map_err(drawing_error)?;
    Ok(())
}

/// A histogram of `values` in `bins` equal-width bins.
///
/// ```
/// let figure = hpr::plot::histogram("run times", "ns", &[1.0, 1.1, 1.2, 3.0], 4).unwrap();
/// assert!(figure.svg.is_some());
/// ```
pub fn histogram(title: &str, x_label: &str, values: &[f64], bins: usize) -> Result<Figure> {
    if values.is_empty() {
        return Err(HprError::Empty { what: "values" });
    }
    if bins == 0 {
        return Err(HprError::invalid("bins", "at least one bin is needed"));
    }
    check_finite("histogram values", values.iter().copied())?;
    let (low, high) = axis_range("x", values.iter().copied(), Scale::Linear)?;
    let width = (high - low) / bins as f64;
    let mut counts = vec![0u32; bins];
    for &value in values {
        let bin = (((value - low) / width) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    let top = f64::from(*counts.iter().max().unwrap_or(&1)) * 1.1;
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = frame(&root, title, 50)
            .build_cartesian_2d(low..high, 0.0..top)
            .map_err(drawing_error)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("count")
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|v| tick_label(*v))
            .draw()
            .map_err(drawing_error)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &count)| {
                let left = low + i as f64 * width;
                Rectangle::new(
                    [(left, 0.0), (left + width, f64::from(count))],
                    PALETTE[0].mix(0.7).filled(),
                )
            }))
            .map_err(drawing_error)?;
        root.present().map_err(drawing_error)?;
    }
    Ok(Figure::from_svg(title, svg))
}

/// A 2D array (row-major, `width` × `height`) as an image, coloured low (dark purple) to high
/// (yellow), with its value range in the caption. Images wider or taller than 800 pixels are
/// shown downsampled to keep notebooks small.
///
/// ```
/// let grid: Vec<f64> = (0..100).map(|i| (i % 10) as f64).collect();
/// let figure = hpr::plot::heatmap("stripes", &grid, 10, 10).unwrap();
/// assert!(figure.to_html().contains("data:image/png;base64,"));
/// ```
pub fn heatmap(title: &str, values: &[f64], width: usize, height: usize) -> Result<Figure> {
    if width == 0 || height == 0 {
        return Err(HprError::invalid(
            "width/height",
            "an image needs at least one pixel",
        ));
    }
    if values.len() != width * height {
        return Err(HprError::invalid(
            "values",
            format!(
                "{} values do not fill a {width} × {height} grid ({} needed)",
                values.len(),
                width * height
            ),
        ));
    }
    check_finite("heatmap values", values.iter().copied())?;
    let step = width.max(height).div_ceil(800);
    let (out_width, out_height) = (width.div_ceil(step), height.div_ceil(step));
    let (low, high) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = if high > low { high - low } else { 1.0 };
    let mut pixels = Vec::with_capacity(out_width * out_height * 3);
    for row in (0..height).step_by(step) {
        for column in (0..width).step_by(step) {
            pixels.extend_from_slice(&colormap((values[row * width + column] - low) / span));
        }
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, out_width as u32, out_height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(drawing_error)?;
        writer.write_image_data(&pixels).map_err(drawing_error)?;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&png_bytes);
    let shown = if step > 1 {
        format!(", shown at 1/{step} scale")
    } else {
        String::new()
    };
    let html = format!(
        "<figure style=\"margin:4px 0\"><img alt=\"{title}\" style=\"image-rendering:pixelated;max-width:640px\" \
         src=\"data:image/png;base64,{encoded}\"/><figcaption>{title}: {width} × {height}{shown}; \
         dark = {low:.4}, bright = {high:.4}</figcaption></figure>",
        title = escape(title),
    );
    Ok(Figure {
        title: title.to_owned(),
        svg: None,
        html,
    })
}

/// A perceptually ordered colormap close to viridis, for `t` in `[0, 1]`.
fn colormap(t: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let position = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let index = (position.floor() as usize).min(STOPS.len() - 2);
    let fraction = position - index as f64;
    let mix = |k: usize| {
        (STOPS[index][k] * (1.0 - fraction) + STOPS[index + 1][k] * fraction).round() as u8
    };
    [mix(0), mix(1), mix(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn line_chart_checks_log_axes() {
        let series = [Series::new("a", vec![(0.0, 1.0), (1.0, 2.0)])];
        assert!(line_chart("t", "x", "y", &series, Scale::Linear, Scale::Linear).is_ok());
        let error = line_chart("t", "x", "y", &series, Scale::Log, Scale::Linear).unwrap_err();
        assert!(error.to_string().contains("positive"), "{error}");
        assert!(line_chart("t", "x", "y", &[], Scale::Linear, Scale::Linear).is_err());
        let dashed = [Series::new("bound", vec![(1.0, 1.0), (10.0, 10.0)]).mark(Mark::Dashed)];
        let svg = line_chart("t", "x", "y", &dashed, Scale::Log, Scale::Log)
            .unwrap()
            .svg
            .unwrap();
        assert!(svg.contains("bound"));
    }

    #[test]
    fn histogram_validates_input() {
        assert!(histogram("h", "x", &[], 3).is_err());
        assert!(histogram("h", "x", &[1.0], 0).is_err());
        assert!(histogram("h", "x", &[1.0, 1.0, 1.0], 3).is_ok());
    }

    #[test]
    fn heatmap_encodes_a_png_and_downsamples_large_grids() {
        let small = heatmap("g", &[0.0, 1.0, 2.0, 3.0], 2, 2).unwrap();
        assert!(small.to_html().contains("2 × 2;"));
        let big = vec![0.5; 1000 * 1000];
        let html = heatmap("big", &big, 1000, 1000).unwrap().to_html();
        assert!(
            html.contains("shown at 1/2 scale"),
            "{}",
            &html[html.len() - 200..]
        );
        assert!(html.len() < 200_000);
        assert!(heatmap("g", &[1.0; 3], 2, 2).is_err());
        assert!(heatmap("g", &[], 0, 0).is_err());
        assert!(heatmap("g", &[f64::NAN], 1, 1).is_err());
    }

    #[test]
    fn colormap_runs_dark_to_bright() {
        assert_eq!(colormap(0.0), [68, 1, 84]);
        assert_eq!(colormap(1.0), [253, 231, 37]);
        assert_eq!(colormap(-5.0), colormap(0.0));
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(250.0), "250");
        assert_eq!(tick_label(1e-6), "1e-6");
        assert_eq!(tick_label(0.0), "0");
    }
}
