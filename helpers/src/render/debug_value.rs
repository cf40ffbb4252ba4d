//! A cell's last value shown with `Debug` after one compilation instead of two.
//!
//! evcxr shows a cell that ends in an expression by compiling it first as
//! `(expr).evcxr_display();`. When the value's type has no such method, that compilation fails
//! and evcxr compiles the cell a second time, printing the value with `{:?}`. Each compilation
//! runs cargo over every dependency and rustc over the cell, so a cell ending in a `Vec`, a
//! number or a polars `DataFrame` took two builds. [`DebugValue`] gives every `Debug` type the
//! method evcxr tries first, printing exactly what evcxr's fallback prints; the prelude brings it
//! into scope. Inherent `evcxr_display` methods (hpr's results, plotters' figures) still win,
//! because method lookup prefers inherent methods to trait methods.

use std::fmt::Debug;
use std::io::Write;

/// Shows any `Debug` value as evcxr's fallback does, so the first compilation succeeds.
///
/// In a notebook this is invisible: a cell ending in `vec![1, 2, 3]` shows `[1, 2, 3]` as
/// before, one compilation sooner. Two differences from evcxr's own fallback: evcxr's `:fmt`
/// and `:types` settings do not apply to these values, and an unsuffixed number literal such
/// as `1 + 1` still compiles twice (rustc cannot pick a trait method for `{integer}`).
///
/// ```
/// use hpr::render::DebugValue;
/// assert_eq!(
///     vec![1, 2, 3].text_plain_block(),
///     "EVCXR_BEGIN_CONTENT text/plain\n[1, 2, 3]\nEVCXR_END_CONTENT\n"
/// );
/// ```
pub trait DebugValue {
    /// Prints the value's `Debug` text as a `text/plain` block on standard output, where the
    /// kernel picks it up as the cell's result.
    fn evcxr_display(&self);

    /// The block [`evcxr_display`](DebugValue::evcxr_display) prints.
    fn text_plain_block(&self) -> String;
}

impl<T: Debug + ?Sized> DebugValue for T {
    fn evcxr_display(&self) {
        let block = self.text_plain_block();
        let mut out = std::io::stdout().lock();
        // The kernel reads results from stdout; when it is gone there is nobody left to tell.
        let _ = out.write_all(block.as_bytes()).and_then(|()| out.flush());
    }

    fn text_plain_block(&self) -> String {
        super::html::content_block("text/plain", &format!("{self:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::DebugValue;

    #[test]
    fn the_block_holds_the_debug_text_exactly() {
        assert_eq!(
            "a\"b".text_plain_block(),
            "EVCXR_BEGIN_CONTENT text/plain\n\"a\\\"b\"\nEVCXR_END_CONTENT\n"
        );
        let nested = Some((1u8, [2.5f64]));
        assert_eq!(
            nested.text_plain_block(),
            format!("EVCXR_BEGIN_CONTENT text/plain\n{nested:?}\nEVCXR_END_CONTENT\n")
        );
    }
}
