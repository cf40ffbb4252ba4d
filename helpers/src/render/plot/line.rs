//! Line charts: several series, each axis linear or logarithmic.

use super::{
    axis_range, axis_tick, canvas, check_finite, drawing_error, frame, without_repeated_text,
    Figure, Scale, PALETTE,
};
use crate::error::{HprError, Result};
use crate::render::html::csv_field;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// How a [`Series`] is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Points joined by a line.
    LineAndPoints,
    /// A line only (a fitted curve, a model).
    Line,
    /// A dashed line (a bound or reference).
    Dashed,
    /// Points only, not joined (values that are not a curve, e.g. one per chapter).
    Points,
}

/// One named series of (x, y) points of a [`LineChart`].
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
/// use hpr::plot::{LineChart, Scale, Series};
/// let n: Vec<f64> = vec![10.0, 100.0, 1000.0];
/// let figure = LineChart::new("time")
///     .x_axis("n", Scale::Log)
///     .y_axis("seconds", Scale::Log)
///     .series(Series::new("t", n.iter().map(|&n| (n, n * 1e-9)).collect()))
///     .draw()?;
/// assert!(figure.svg.is_some());
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    title: String,
    x: (String, Scale),
    y: (String, Scale),
    series: Vec<Series>,
}

impl LineChart {
    /// An empty chart with linear, unlabelled axes.
    pub fn new(title: impl Into<String>) -> LineChart {
        LineChart {
            title: title.into(),
            x: (String::new(), Scale::Linear),
            y: (String::new(), Scale::Linear),
            series: Vec::new(),
        }
    }

    /// The x axis's label and scale.
    pub fn x_axis(mut self, label: impl Into<String>, scale: Scale) -> LineChart {
        self.x = (label.into(), scale);
        self
    }

    /// The y axis's label and scale.
    pub fn y_axis(mut self, label: impl Into<String>, scale: Scale) -> LineChart {
        self.y = (label.into(), scale);
        self
    }

    /// Adds one series.
    pub fn series(mut self, series: Series) -> LineChart {
        self.series.push(series);
        self
    }

    /// Draws the chart; fails on no points, a NaN, or a non-positive value on a log axis.
    pub fn draw(&self) -> Result<Figure> {
        let (title, series) = (self.title.as_str(), self.series.as_slice());
        let ((x_label, x_scale), (y_label, y_scale)) = (&self.x, &self.y);
        let (x_scale, y_scale) = (*x_scale, *y_scale);
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
            let labels = (title, x_label.as_str(), y_label.as_str());
            let decades = (decades(x_scale, x_range), decades(y_scale, y_range));
            match (x_scale, y_scale) {
                (Scale::Linear, Scale::Linear) => draw_lines(
                    &mut svg,
                    labels,
                    decades,
                    series,
                    x_range.0..x_range.1,
                    y_range.0..y_range.1,
                ),
                (Scale::Log, Scale::Linear) => draw_lines(
                    &mut svg,
                    labels,
                    decades,
                    series,
                    (x_range.0..x_range.1).log_scale(),
                    y_range.0..y_range.1,
                ),
                (Scale::Linear, Scale::Log) => draw_lines(
                    &mut svg,
                    labels,
                    decades,
                    series,
                    x_range.0..x_range.1,
                    (y_range.0..y_range.1).log_scale(),
                ),
                (Scale::Log, Scale::Log) => draw_lines(
                    &mut svg,
                    labels,
                    decades,
                    series,
                    (x_range.0..x_range.1).log_scale(),
                    (y_range.0..y_range.1).log_scale(),
                ),
            }?;
        }
        let mut csv = String::from("series,x,y\n");
        for one in series {
            let name = csv_field(&one.name);
            for (x, y) in &one.points {
                csv.push_str(&format!("{name},{x},{y}\n"));
            }
        }
        Ok(Figure::from_svg(title, without_repeated_text(&svg), csv))
    }
}

/// How many decades a logarithmic axis spans; `None` for a linear one.
fn decades(scale: Scale, (low, high): (f64, f64)) -> Option<f64> {
    (scale == Scale::Log).then(|| (high / low).log10())
}

fn draw_lines<X, Y>(
    svg: &mut String,
    (title, x_label, y_label): (&str, &str, &str),
    (x_decades, y_decades): (Option<f64>, Option<f64>),
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
        .x_label_formatter(&|v| axis_tick(*v, x_decades))
        .y_label_formatter(&|v| axis_tick(*v, y_decades))
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
            Mark::Points => chart
                .draw_series(
                    one.points
                        .iter()
                        .map(|&p| Circle::new(p, 4, color.filled())),
                )
                .map_err(drawing_error)?
                .label(one.name.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled())),
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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;

    #[test]
    fn line_chart_checks_log_axes() {
        let series = Series::new("a", vec![(0.0, 1.0), (1.0, 2.0)]);
        let linear = LineChart::new("t").series(series.clone());
        assert_eq!(
            linear.draw().unwrap().to_csv(),
            "series,x,y\na,0,1\na,1,2\n"
        );
        let log_x = linear.clone().x_axis("x", Scale::Log);
        let error = log_x.draw().unwrap_err();
        assert!(error.to_string().contains("positive"), "{error}");
        assert!(LineChart::new("t").draw().is_err());
        let dashed = Series::new("bound", vec![(1.0, 1.0), (10.0, 10.0)]).mark(Mark::Dashed);
        let chart = LineChart::new("t")
            .x_axis("x", Scale::Log)
            .y_axis("y", Scale::Log)
            .series(dashed);
        assert!(chart.draw().unwrap().svg.unwrap().contains("bound"));
        let dots = Series::new("dots", vec![(1.0, 2.0), (1.0, 3.0)]).mark(Mark::Points);
        let svg = LineChart::new("t")
            .series(dots)
            .draw()
            .unwrap()
            .svg
            .unwrap();
        assert!(svg.contains("dots") && svg.contains("<circle"), "{svg}");
    }
}
