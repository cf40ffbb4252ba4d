//! Several results shown together: Jupyter keeps one HTML block per cell, so a cell that wants
//! a timing table, a memory table and a printed query plan must send them as one.

use super::html::escape;
use super::Render;
use std::fmt;

/// One part of a [`Panel`]: a rendered result, or preformatted text under a heading.
#[derive(Debug, Clone, PartialEq)]
struct Part {
    html: String,
    /// The result's CSV; `None` for text, which has no numbers to export.
    csv: Option<String>,
    text: String,
}

/// Results and text stacked in one HTML block, in the order they were added.
///
/// ```
/// use hpr::prelude::*;
/// let timing = Timeit::new().runs(2).budget(Duration::from_millis(50)).run(|| 2 + 2)?;
/// let panel = Panel::new()
///     .add(&timing)
///     .text("the plan", "SELECT [col(\"a\")]\n  FROM df");
/// assert!(panel.to_html().contains("&quot;a&quot;"), "text is escaped");
/// assert_eq!(panel.len(), 2);
/// assert_eq!(panel.to_csv(), timing.to_csv(), "text has no CSV");
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Panel {
    parts: Vec<Part>,
}

impl Panel {
    /// An empty panel.
    pub fn new() -> Panel {
        Panel::default()
    }

    /// Adds any result: a timing, a comparison, a memory table, a figure, another panel.
    // A builder step, not `+`: the name reads as "add this result to the panel".
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, result: &dyn Render) -> Panel {
        self.parts.push(Part {
            html: result.to_html(),
            csv: Some(result.to_csv()),
            text: result.to_string(),
        });
        self
    }

    /// Adds preformatted text under a heading: a printed table, a query plan, a log.
    pub fn text(mut self, heading: &str, text: impl AsRef<str>) -> Panel {
        let text = text.as_ref();
        self.parts.push(Part {
            html: format!(
                "<div><b>{}</b><pre style=\"white-space:pre;overflow-x:auto\">{}</pre></div>",
                escape(heading),
                escape(text)
            ),
            csv: None,
            text: format!("{heading}\n{text}"),
        });
        self
    }

    /// How many parts the panel holds.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

impl Render for Panel {
    /// The parts in one `<div>`.
    fn to_html(&self) -> String {
        let parts: String = self.parts.iter().map(|p| p.html.as_str()).collect();
        format!("<div>{parts}</div>")
    }

    /// The CSV of each result part, separated by an empty line.
    fn to_csv(&self) -> String {
        let tables: Vec<&str> = self.parts.iter().filter_map(|p| p.csv.as_deref()).collect();
        tables.join("\n")
    }
}

impl fmt::Display for Panel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.parts.iter().map(|p| p.text.trim_end()).collect();
        writeln!(f, "{}", texts.join("\n\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_their_order() {
        let first = Panel::new().text("first", "1");
        let html = Panel::new().add(&first).text("second", "2").to_html();
        assert!(html.find("first").unwrap() < html.find("second").unwrap());
    }

    #[test]
    fn text_is_escaped_and_preformatted() {
        let panel = Panel::new().text("a <plan>", "x < y && z");
        let html = panel.to_html();
        assert!(html.contains("a &lt;plan&gt;"), "{html}");
        assert!(html.contains("<pre"), "{html}");
        assert!(html.contains("x &lt; y &amp;&amp; z"), "{html}");
        assert_eq!(panel.to_string(), "a <plan>\nx < y && z\n");
    }

    #[test]
    fn csv_joins_the_results_tables() {
        let error = crate::HprError::Empty { what: "samples" };
        let panel = Panel::new().add(&error).text("t", "no csv").add(&error);
        assert_eq!(
            panel.to_csv(),
            format!("{}\n{}", error.to_csv(), error.to_csv())
        );
    }

    #[test]
    fn an_empty_panel_is_an_empty_block() {
        let panel = Panel::new();
        assert!(panel.is_empty());
        assert_eq!(panel.to_html(), "<div></div>");
        assert_eq!(panel.to_csv(), "");
    }
}
