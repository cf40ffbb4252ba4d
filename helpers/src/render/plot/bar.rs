//! Bar charts with error bars, drawn as horizontal bars so that long labels read in full, on a
//! logarithmic axis when the values span more than [`LOG_SPAN`] times.

use super::{check_finite, tick_label, Figure, Scale, PALETTE, SIZE};
use crate::error::{HprError, Result};
use crate::render::html::{csv_field, escape};
use std::fmt::Write as _;

/// Above this ratio between the largest and the smallest value, a linear axis would draw the
/// small bars as flat lines: the chart switches to a logarithmic one and says so.
const LOG_SPAN: f64 = 30.0;

const FONT: f64 = 12.0;
/// Average width of a sans-serif character, in ems, used to size the label column; generous, so
/// that labels never run into the bars.
const CHAR_EM: f64 = 0.6;
const LABEL_CHARS: usize = 34;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 52.0;
const RIGHT: f64 = 24.0;

/// One bar of a [`bar_chart`], with an error bar from `low` to `high`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label beside the bar.
    pub label: String,
    /// Length of the bar.
    pub value: f64,
    /// Start of the error bar.
    pub low: f64,
    /// End of the error bar.
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
/// is empty (see [`Bar::new`]) are drawn without one. Bars run left to right, one row each, with
/// their labels (wrapped onto two lines when long) in a column to the left. When no value is
/// negative and the largest is more than 30 times the smallest positive one, the value axis is
/// logarithmic and its label says so (a zero then has no bar, as on any axis).
///
/// ```
/// use hpr::plot::{bar_chart, Bar};
/// let bars = vec![
///     Bar { label: "loop".into(), value: 2.0, low: 1.8, high: 2.3 },
///     Bar { label: "iter".into(), value: 1.0, low: 0.9, high: 1.2 },
/// ];
/// let figure = bar_chart("time per call", "seconds", &bars).unwrap();
/// assert!(figure.svg.unwrap().contains("loop"));
/// let spread = [Bar::new("slow", 6000.0), Bar::new("fast", 1.0)];
/// let svg = bar_chart("time", "seconds", &spread).unwrap().svg.unwrap();
/// assert!(svg.contains("seconds (log scale)"));
/// ```
pub fn bar_chart(title: &str, value_label: &str, bars: &[Bar]) -> Result<Figure> {
    if bars.is_empty() {
        return Err(HprError::Empty { what: "bars" });
    }
    check_finite(
        "bar values",
        bars.iter().flat_map(|b| [b.value, b.low, b.high]),
    )?;
    let axis = Axis::for_bars(bars);
    let labels: Vec<Vec<String>> = bars.iter().map(|b| wrap(&b.label)).collect();
    let lines = labels.iter().map(Vec::len).max().unwrap_or(1);
    let row = if lines > 1 { 34.0 } else { 26.0 };
    let widest = labels.iter().flatten().map(|l| l.chars().count()).max();
    let label_width = widest.unwrap_or(0) as f64 * CHAR_EM * FONT + 16.0;
    let width = f64::from(SIZE.0);
    let plot = (label_width, width - RIGHT);
    let height = TOP + row * bars.len() as f64 + BOTTOM;
    let x = |value: f64| plot.0 + axis.fraction(value) * (plot.1 - plot.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"{FONT}\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
        width / 2.0,
        escape(title)
    );
    let bottom = TOP + row * bars.len() as f64;
    for tick in axis.ticks() {
        let at = x(tick);
        let _ = write!(
            svg,
            "<line x1=\"{at:.1}\" y1=\"{TOP}\" x2=\"{at:.1}\" y2=\"{bottom}\" stroke=\"#ddd\"/>\
             <text x=\"{at:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            bottom + 16.0,
            tick_label(tick)
        );
    }
    let axis_name = match axis.scale {
        Scale::Log => format!("{value_label} (log scale)"),
        Scale::Linear => value_label.to_owned(),
    };
    let _ = write!(
        svg,
        "<line x1=\"{}\" y1=\"{TOP}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"black\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        x(axis.base()),
        x(axis.base()),
        (plot.0 + plot.1) / 2.0,
        bottom + 40.0,
        escape(&axis_name)
    );
    for (i, (bar, label)) in bars.iter().zip(&labels).enumerate() {
        let middle = TOP + row * (i as f64 + 0.5);
        let first_line = middle + 4.0 - 7.0 * (label.len() as f64 - 1.0);
        for (n, line) in label.iter().enumerate() {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                plot.0 - 8.0,
                first_line + 14.0 * n as f64,
                escape(line)
            );
        }
        let (start, end) = (x(axis.base()), x(bar.value));
        let [r, g, b] = {
            let color = PALETTE[i % PALETTE.len()];
            [color.0, color.1, color.2]
        };
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
             fill=\"rgb({r},{g},{b})\" fill-opacity=\"0.75\" data-value=\"{}\"/>",
            start.min(end),
            middle - row * 0.3,
            (end - start).abs(),
            row * 0.6,
            bar.value
        );
        if bar.low < bar.high {
            let (low, high) = (x(bar.low), x(bar.high));
            let _ = write!(
                svg,
                "<path d=\"M{low:.1} {a:.1}V{b:.1}M{low:.1} {middle:.1}H{high:.1}\
                 M{high:.1} {a:.1}V{b:.1}\" stroke=\"black\" stroke-width=\"1.5\" fill=\"none\"/>",
                a = middle - 5.0,
                b = middle + 5.0
            );
        }
    }
    svg.push_str("</svg>");
    let mut csv = String::from("label,value,low,high\n");
    for bar in bars {
        let label = csv_field(&bar.label);
        let _ = writeln!(csv, "{label},{},{},{}", bar.value, bar.low, bar.high);
    }
    Ok(Figure::from_svg(title, svg, csv))
}

/// The value axis: where a value falls along the bars, and where its ticks go.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    scale: Scale,
    from: f64,
    to: f64,
}

impl Axis {
    fn for_bars(bars: &[Bar]) -> Axis {
        let values = bars.iter().flat_map(|b| [b.value, b.low, b.high]);
        let (low, high) = values
            .clone()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        // Zero values have no bar on either axis; the positive ones decide the span.
        let smallest_positive = values.filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        if low >= 0.0 && smallest_positive.is_finite() && high / smallest_positive > LOG_SPAN {
            return Axis {
                scale: Scale::Log,
                // Below the smallest value, so that its bar has a length.
                from: 10f64.powf((smallest_positive / 2.0).log10().floor()),
                to: 10f64.powf(high.log10().ceil()),
            };
        }
        let (from, to) = (low.min(0.0), high.max(0.0));
        let pad = if to > from { (to - from) * 0.05 } else { 1.0 };
        Axis {
            scale: Scale::Linear,
            from: if from < 0.0 { from - pad } else { 0.0 },
            to: if to > 0.0 || from == to {
                to + pad
            } else {
                0.0
            },
        }
    }

    /// How far along the axis `value` falls, from 0 to 1.
    fn fraction(&self, value: f64) -> f64 {
        let fraction = match self.scale {
            Scale::Log => (value.ln() - self.from.ln()) / (self.to.ln() - self.from.ln()),
            Scale::Linear => (value - self.from) / (self.to - self.from),
        };
        fraction.clamp(0.0, 1.0)
    }

    /// Where bars start: zero on a linear axis, the axis' start on a logarithmic one.
    fn base(&self) -> f64 {
        match self.scale {
            Scale::Log => self.from,
            Scale::Linear => 0.0,
        }
    }

    /// Tick values: powers of ten (every other one past eight decades), or 1, 2 or 5 times a
    /// power of ten apart, about six of them.
    fn ticks(&self) -> Vec<f64> {
        match self.scale {
            Scale::Log => {
                let (first, last) = (self.from.log10().round(), self.to.log10().round());
                let decades = (last - first) as usize;
                let every = decades.div_ceil(8).max(1);
                (0..=decades)
                    .step_by(every)
                    .map(|k| 10f64.powf(first + k as f64))
                    .collect()
            }
            Scale::Linear => {
                let rough = (self.to - self.from) / 6.0;
                let power = 10f64.powf(rough.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .into_iter()
                    .map(|m| m * power)
                    .find(|&s| s >= rough)
                    .unwrap_or(10.0 * power);
                let first = (self.from / step).ceil() as i64;
                let last = (self.to / step).floor() as i64;
                (first..=last).map(|k| k as f64 * step).collect()
            }
        }
    }
}

/// A label as one line, or two when it is longer than the label column: broken at the last space
/// that fits, cut with an ellipsis if the rest is still too long.
fn wrap(label: &str) -> Vec<String> {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= LABEL_CHARS {
        return vec![label.to_owned()];
    }
    let head: String = chars[..LABEL_CHARS].iter().collect();
    let split = head.rfind(' ').filter(|&i| i > 0).unwrap_or(head.len());
    let first = label[..split].trim_end().to_owned();
    let rest: Vec<char> = label[split..].trim_start().chars().collect();
    let second = if rest.len() > LABEL_CHARS {
        let kept: String = rest[..LABEL_CHARS - 1].iter().collect();
        format!("{kept}…")
    } else {
        rest.into_iter().collect()
    };
    vec![first, second]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;

    fn svg(bars: &[Bar]) -> String {
        bar_chart("t", "s", bars).unwrap().svg.unwrap()
    }

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
        let drawn = svg(&bars);
        assert!(
            drawn.starts_with("<svg") && drawn.contains(">first<") && drawn.contains(">second<")
        );
        assert_eq!(drawn.matches("<path").count(), 2, "two error bars");
        assert!(!drawn.contains("log scale"), "a 3.9x span stays linear");
        let csv = bar_chart("t", "s", &bars).unwrap().to_csv();
        assert_eq!(
            csv,
            "label,value,low,high\nfirst,3,2.5,3.5\nsecond,1,0.9,1.1\n"
        );
        assert!(bar_chart("t", "s", &[]).is_err());
        let one = svg(&[Bar::new("only", 1.0)]);
        assert!(one.contains(">only<") && !one.contains("<path"));
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

    /// The widths of the bars drawn, in order.
    fn widths(svg: &str) -> Vec<f64> {
        svg.split("<rect x=")
            .skip(1)
            .map(|rest| {
                let at = rest.find("width=\"").unwrap() + 7;
                let end = rest[at..].find('"').unwrap();
                rest[at..at + end].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn a_wide_span_goes_logarithmic_and_no_bar_is_flat() {
        // Chapter 07's apply ladder: 5,962x between the slowest and the fastest.
        let bars = [Bar::new("pandas apply", 5962.0), Bar::new("Rust", 1.0)];
        let drawn = svg(&bars);
        assert!(drawn.contains(">s (log scale)<"), "{drawn}");
        let drawn_widths = widths(&drawn);
        assert_eq!(drawn_widths.len(), 2);
        assert!(drawn_widths.iter().all(|&w| w >= 1.0), "{drawn_widths:?}");
        assert!(drawn_widths[0] > drawn_widths[1]);
        let linear = svg(&[Bar::new("a", 29.0), Bar::new("b", 1.0)]);
        assert!(!linear.contains("log scale"));
        assert!(widths(&linear).iter().all(|&w| w >= 1.0));
        // Negative values keep a linear axis, which holds zero.
        let signed = svg(&[
            Bar::new("a", -2.0),
            Bar::new("b", 0.0),
            Bar::new("c", 100.0),
        ]);
        assert!(!signed.contains("log scale"));
        // Chapter 05's file readers: zero, 4 KiB and 500 MiB. The zero has no bar; the others
        // span more than 30x, so a log axis gives 4 KiB a bar of its own.
        let readers = [
            Bar::new("lines", 0.0),
            Bar::new("read_line", 0.0039),
            Bar::new("whole", 500.0),
        ];
        let drawn = svg(&readers);
        assert!(drawn.contains("log scale"), "{drawn}");
        let drawn_widths = widths(&drawn);
        assert!(
            drawn_widths[0] < 1.0 && drawn_widths[1] >= 1.0,
            "{drawn_widths:?}"
        );
    }

    #[test]
    fn axes_tick_at_round_values_inside_their_range() {
        let log = Axis::for_bars(&[Bar::new("a", 0.003), Bar::new("b", 40.0)]);
        assert_eq!((log.scale, log.from, log.to), (Scale::Log, 0.001, 100.0));
        assert_eq!(log.ticks(), [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]);
        let wide = Axis::for_bars(&[Bar::new("a", 1e-9), Bar::new("b", 1e9)]);
        assert!(wide.ticks().len() <= 9, "{:?}", wide.ticks());
        let linear = Axis::for_bars(&[Bar::new("a", 7.0), Bar::new("b", 1.0)]);
        assert_eq!(linear.ticks(), [0.0, 2.0, 4.0, 6.0]);
        assert_eq!(linear.fraction(0.0), 0.0);
        assert!(linear.fraction(7.0) < 1.0 && linear.fraction(7.0) > 0.9);
    }

    #[test]
    fn long_labels_wrap_onto_two_lines_and_are_cut_after() {
        assert_eq!(wrap("short"), ["short"]);
        let two = wrap("pandas apply(raw=True), closed form, in one long label");
        assert_eq!(
            two,
            ["pandas apply(raw=True), closed", "form, in one long label"]
        );
        let cut = wrap(&format!("{} {}", "a".repeat(30), "b".repeat(50)));
        assert_eq!(cut[1].chars().count(), LABEL_CHARS);
        assert!(cut[1].ends_with('…'));
        let unbroken = wrap(&"x".repeat(40));
        assert_eq!(unbroken[0].len(), LABEL_CHARS);
    }
}
