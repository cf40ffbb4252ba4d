//! HTML building blocks: escaping, tables, notes, and the block evcxr shows.

use std::fmt::Write as _;

/// Prints `html` as one `text/html` block in the evcxr protocol.
///
/// evcxr keeps only the last block of each MIME type per cell, so every result renders its table
/// and its plot together through one call.
pub(crate) fn emit_html(html: &str) {
    print!("{}", content_block("text/html", html));
}

/// One block of rich output in evcxr's protocol: the kernel shows `body` as `mime`.
pub(crate) fn content_block(mime: &str, body: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{body}\nEVCXR_END_CONTENT\n")
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
    chart: crate::Result<super::plot::Figure>,
    notes: &[String],
) -> String {
    let chart = chart.map_or_else(
        |e| escape(&e.to_string()),
        |figure| super::Render::to_html(&figure),
    );
    format!("<div>{}{chart}{}</div>", table.to_html(), notes_html(notes))
}

/// One CSV line (with its newline) of `fields`, each quoted where it needs it.
pub(crate) fn csv_line<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = fields
        .into_iter()
        .map(csv_field)
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// Quotes a CSV field when it needs it.
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(csv_line(["a", "b,c"]), "a,\"b,c\"\n");
    }
}
