//! Rendering helpers: units, HTML tables and the evcxr display protocol.

use std::fmt::Write as _;

/// Prints `html` as one `text/html` block in the evcxr protocol.
///
/// evcxr keeps only the last block of each MIME type per cell, so every result renders its table
/// and its plot together through one call.
pub(crate) fn emit_html(html: &str) {
    println!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT");
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Formats seconds with an SI unit and three significant digits: `12.3 ns`, `4.56 ms`.
///
/// ```
/// assert_eq!(hpr::format_duration(1.234e-8), "12.3 ns");
/// assert_eq!(hpr::format_duration(2.0), "2.00 s");
/// ```
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return format!("{seconds} s");
    }
    let magnitude = seconds.abs();
    let (scale, unit) = if magnitude >= 1.0 || magnitude == 0.0 {
        (1.0, "s")
    } else if magnitude >= 1e-3 {
        (1e3, "ms")
    } else if magnitude >= 1e-6 {
        (1e6, "µs")
    } else if magnitude >= 1e-9 {
        (1e9, "ns")
    } else {
        (1e12, "ps")
    };
    format!("{} {unit}", three_digits(seconds * scale))
}

/// Formats a byte count with binary units: `1.50 KiB`, `-2.00 MiB`.
///
/// ```
/// assert_eq!(hpr::format_bytes(1536), "1.50 KiB");
/// assert_eq!(hpr::format_bytes(12), "12 B");
/// ```
pub fn format_bytes(bytes: i64) -> String {
    let magnitude = bytes.unsigned_abs() as f64;
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut index = 0;
    let mut value = magnitude;
    while value >= 1024.0 && index + 1 < units.len() {
        value /= 1024.0;
        index += 1;
    }
    let sign = if bytes < 0 { "-" } else { "" };
    if index == 0 {
        format!("{sign}{} B", magnitude as u64)
    } else {
        format!("{sign}{} {}", three_digits(value), units[index])
    }
}

/// Three significant digits for values in [0.001, 1000).
fn three_digits(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A small HTML table builder with a caption, header row and right-aligned numbers.
pub(crate) struct Table {
    caption: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(caption: &str, header: &[&str]) -> Table {
        Table {
            caption: caption.to_owned(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn to_html(&self) -> String {
        let mut html = String::from(
            "<table style=\"border-collapse:collapse;font-family:monospace;margin:4px 0\">",
        );
        if !self.caption.is_empty() {
            let _ = write!(
                html,
                "<caption style=\"text-align:left;font-weight:bold\">{}</caption>",
                escape(&self.caption)
            );
        }
        html.push_str("<tr>");
        for cell in &self.header {
            let _ = write!(
                html,
                "<th style=\"padding:2px 8px;border-bottom:1px solid #888\">{}</th>",
                escape(cell)
            );
        }
        html.push_str("</tr>");
        for row in &self.rows {
            html.push_str("<tr>");
            for (index, cell) in row.iter().enumerate() {
                let align = if index == 0 { "left" } else { "right" };
                let _ = write!(
                    html,
                    "<td style=\"padding:2px 8px;text-align:{align}\">{}</td>",
                    escape(cell)
                );
            }
            html.push_str("</tr>");
        }
        html.push_str("</table>");
        html
    }
}

/// A two-column table of (label, value) rows, as machine descriptions and limits show them.
pub(crate) fn label_value_table(
    caption: &str,
    header: [&str; 2],
    rows: Vec<(String, String)>,
) -> String {
    let mut table = Table::new(caption, &header);
    for (label, value) in rows {
        table.row(vec![label, value]);
    }
    table.to_html()
}

/// Small print under a result: notes and warnings, one paragraph each.
pub(crate) fn notes_html(notes: &[String]) -> String {
    notes
        .iter()
        .map(|note| {
            format!(
                "<div style=\"font-size:smaller;color:#555\">{}</div>",
                escape(note)
            )
        })
        .collect()
}

/// A result as one HTML block: its table, its chart (or why the chart failed), then notes.
/// evcxr keeps one block per MIME type per cell, so they must travel together.
pub(crate) fn result_block(
    table: &Table,
    chart: crate::Result<crate::plot::Figure>,
    notes: &[String],
) -> String {
    let chart = chart.map_or_else(|e| escape(&e.to_string()), |figure| figure.to_html());
    format!("<div>{}{chart}{}</div>", table.to_html(), notes_html(notes))
}

/// Quotes a CSV field when it needs it.
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Implements `evcxr_display` (the method evcxr looks for) through a type's `to_html`.
macro_rules! display_in_jupyter {
    ($($type:ty),* $(,)?) => {$(
        impl $type {
            /// Renders this value in a Jupyter cell (called by evcxr for a cell's last value).
            pub fn evcxr_display(&self) {
                crate::html::emit_html(&self.to_html());
            }
        }
    )*};
}
pub(crate) use display_in_jupyter;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(format_duration(0.0), "0.00 s");
        assert_eq!(format_duration(1.5e-12), "1.50 ps");
        assert_eq!(format_duration(999e-9), "999 ns");
        assert_eq!(format_duration(0.0123), "12.3 ms");
        assert_eq!(format_duration(-2e-6), "-2.00 µs");
        assert_eq!(format_duration(f64::NAN), "NaN s");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024 * 1024 * 3), "3.00 MiB");
        assert_eq!(format_bytes(-1536), "-1.50 KiB");
    }

    #[test]
    fn tables_escape_their_cells() {
        let mut table = Table::new("a <b>", &["name", "value"]);
        table.row(vec!["x&y".into(), "1".into()]);
        let html = table.to_html();
        assert!(html.contains("a &lt;b&gt;"));
        assert!(html.contains("x&amp;y"));
        assert!(html.contains("text-align:right\">1<"));
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
