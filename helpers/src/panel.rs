//! Several results shown together: Jupyter keeps one HTML block per cell, so a cell that wants
//! a timing table, a memory table and a printed query plan must send them as one.

use crate::html::{display_in_jupyter, escape};

/// Results and text stacked in one HTML block, in the order they were added.
///
/// ```
/// use hpr::prelude::*;
/// let timing = Timeit::new().runs(2).budget(Duration::from_millis(50)).run(|| 2 + 2)?;
/// let panel = Panel::new()
///     .html(timing.to_html())
///     .text("the plan", "SELECT [col(\"a\")]\n  FROM df");
/// assert!(panel.to_html().contains("&quot;a&quot;"), "text is escaped");
/// assert_eq!(panel.len(), 2);
/// # Ok::<(), hpr::HprError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Panel {
    parts: Vec<String>,
}

impl Panel {
    /// An empty panel.
    pub fn new() -> Panel {
        Panel::default()
    }

    /// Adds an HTML fragment, typically another result's `to_html()`.
    pub fn html(mut self, fragment: impl Into<String>) -> Panel {
        self.parts.push(fragment.into());
        self
    }

    /// Adds preformatted text under a heading: a printed table, a query plan, a log.
    pub fn text(mut self, heading: &str, text: impl AsRef<str>) -> Panel {
        self.parts.push(format!(
            "<div><b>{}</b><pre style=\"white-space:pre;overflow-x:auto\">{}</pre></div>",
            escape(heading),
            escape(text.as_ref())
        ));
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

    /// The parts in one `<div>`.
    pub fn to_html(&self) -> String {
        format!("<div>{}</div>", self.parts.concat())
    }
}

display_in_jupyter!(Panel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_their_order() {
        let html = Panel::new()
            .html("<p>first</p>")
            .html("<p>second</p>")
            .to_html();
        assert!(html.find("first").unwrap() < html.find("second").unwrap());
    }

    #[test]
    fn text_is_escaped_and_preformatted() {
        let html = Panel::new().text("a <plan>", "x < y && z").to_html();
        assert!(html.contains("a &lt;plan&gt;"), "{html}");
        assert!(html.contains("<pre"), "{html}");
        assert!(html.contains("x &lt; y &amp;&amp; z"), "{html}");
    }

    #[test]
    fn an_empty_panel_is_an_empty_block() {
        let panel = Panel::new();
        assert!(panel.is_empty());
        assert_eq!(panel.to_html(), "<div></div>");
    }
}
