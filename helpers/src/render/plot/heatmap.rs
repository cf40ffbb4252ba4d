//! Heatmaps: a 2D array as an embedded PNG image.

use super::{check_finite, drawing_error, Figure};
use crate::error::{HprError, Result};
use crate::render::html::escape;
use base64::Engine as _;

/// A 2D array (row-major, `width` × `height`) as an image, coloured low (dark purple) to high
/// (yellow), with its value range in the caption. Images wider or taller than 800 pixels are
/// shown downsampled to keep notebooks small.
///
/// ```
/// let grid: Vec<f64> = (0..100).map(|i| (i % 10) as f64).collect();
/// let figure = hpr::plot::heatmap("stripes", &grid, 10, 10).unwrap();
/// use hpr::Render;
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
    // The CSV holds the grid as shown: one line per (kept) row.
    let mut csv = String::new();
    for row in (0..height).step_by(step) {
        let mut shown = Vec::with_capacity(out_width);
        for column in (0..width).step_by(step) {
            let value = values[row * width + column];
            pixels.extend_from_slice(&colormap((value - low) / span));
            shown.push(value.to_string());
        }
        csv.push_str(&shown.join(","));
        csv.push('\n');
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
        csv,
    })
}

/// A perceptually ordered colormap close to viridis, for `t` in `[0, 1]`.
pub(super) fn colormap(t: f64) -> [u8; 3] {
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
    use crate::render::Render;

    #[test]
    fn heatmap_encodes_a_png_and_downsamples_large_grids() {
        let small = heatmap("g", &[0.0, 1.0, 2.0, 3.0], 2, 2).unwrap();
        assert!(small.to_html().contains("2 × 2;"));
        assert_eq!(small.to_csv(), "0,1\n2,3\n");
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
}
