//! A chapter's headline results: recorded so that they outlive the run ([`Headline`]), read back
//! by chapter 13 ([`Results`]), shown across chapters ([`ResultTable`]) with the conditions they
//! were measured under ([`Conditions`]).

mod conditions;
mod headline;
mod recorded;
mod table;

pub use conditions::{Check, Conditions, Verdict};
pub use headline::{Aspect, BookFigure, Headline, RESULTS_FILE_ENV};
pub use recorded::{ChapterResults, Results, RESULTS_DIR_ENV};
pub use table::{Entry, ResultTable};
