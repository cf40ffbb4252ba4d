//! Histograms of samples.

use super::{
    axis_range, canvas, check_finite, drawing_error, frame, tick_label, Figure, Scale, PALETTE,
};
use crate::error::{HprError, Result};
use plotters::prelude::*;

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
    let mut csv = String::from("bin_low,bin_high,count\n");
    for (i, count) in counts.iter().enumerate() {
        let left = low + i as f64 * width;
        csv.push_str(&format!("{left},{},{count}\n", left + width));
    }
    Ok(Figure::from_svg(title, svg, csv))
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;

    #[test]
    fn histogram_validates_input() {
        assert!(histogram("h", "x", &[], 3).is_err());
        assert!(histogram("h", "x", &[1.0], 0).is_err());
        let csv = histogram("h", "x", &[1.0, 1.0, 1.0], 3).unwrap().to_csv();
        assert_eq!(csv.lines().count(), 4, "{csv}");
        let total: u32 = csv
            .lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().parse::<u32>().unwrap())
            .sum();
        assert_eq!(total, 3);
    }
}
