//! Rendering: every result shows itself the same way.
//!
//! A result implements [`Render`]: HTML for Jupyter (its table and its plot in one block, since
//! Jupyter keeps one HTML block per cell), CSV for export, and plain text through `Display`.
//! evcxr shows a cell's last value by calling an inherent method named `evcxr_display`; the
//! `rendered!` list (at the crate's root) gives every result that method, and
//! [`RENDERED_TYPES`](crate::RENDERED_TYPES) names the same types for the notebook runner,
//! which flags a result evcxr dumped with `Debug` instead.

mod debug_value;
pub(crate) mod html;
pub(crate) mod panel;
pub mod plot;
mod table;
pub(crate) mod units;

pub use debug_value::DebugValue;
pub use panel::Panel;
pub use plot::Figure;
pub use table::Table;
pub use units::{format_bytes, format_duration, format_rate};

use std::fmt::Display;

/// What every `hpr` result can do: show itself in Jupyter, export its numbers, print as text.
///
/// ```
/// use hpr::prelude::*;
/// let timing = Timeit::new().runs(2).budget(Duration::from_millis(40)).run(|| 1 + 1)?;
/// let html = Render::to_html(&timing);
/// assert!(html.contains("<table"));
/// assert!(timing.to_csv().starts_with("name,run,seconds_per_loop"));
/// assert!(timing.to_string().contains("per loop"));
/// # Ok::<(), hpr::HprError>(())
/// ```
pub trait Render: Display {
    /// One HTML block: the table, the plot and the notes together.
    fn to_html(&self) -> String;
    /// The numbers behind the result as CSV with a header line, raw (seconds, bytes) rather
    /// than formatted, so that they load into pandas or polars as they are.
    fn to_csv(&self) -> String;
}

/// Sends `value`'s HTML to the notebook (evcxr's protocol for rich output).
pub fn display(value: &dyn Render) {
    html::emit_html(&value.to_html());
}

/// Gives each listed type evcxr's `evcxr_display` through its [`Render`] impl, and lists their
/// names in `RENDERED_TYPES`: one list, so the two cannot drift apart. It is invoked at the
/// crate's root, which knows every result type, so that rendering depends on no other group.
macro_rules! rendered {
    ($($type:ident),* $(,)?) => {
        $(
            impl crate::$type {
                /// Shows this value in a Jupyter cell; evcxr calls it for a cell's last value.
                pub fn evcxr_display(&self) {
                    crate::render::display(self);
                }
            }
        )*
        /// The names of every type that renders in Jupyter. The notebook runner
        /// (`harness/nbexec.py`) flags a cell whose value starts with one of these followed by
        /// `{` or `(`: evcxr could not call `evcxr_display` and printed a `Debug` dump.
        pub const RENDERED_TYPES: &[&str] = &[$(stringify!($type)),*];
    };
}
pub(crate) use rendered;

/// An error shows as a red box instead of a `Debug` dump.
impl Render for crate::HprError {
    fn to_html(&self) -> String {
        format!(
            "<div style=\"color:#a40000;border-left:4px solid #a40000;padding:4px 8px;\
             white-space:pre-wrap\"><b>hpr error:</b> {}</div>",
            html::escape(&self.to_string())
        )
    }

    fn to_csv(&self) -> String {
        let variant = self.variant_name();
        format!(
            "error,message\n{}",
            html::csv_line([variant, &self.to_string()])
        )
    }
}
