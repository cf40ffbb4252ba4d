//! Performance claims checked against one run's measurements, reported instead of asserted.
//!
//! A notebook asserts what must be true everywhere (checksums, counts, equal results). Whether two
//! threads beat one, or a latency step sits at the L2 size, depends on the machine and on what
//! else it runs at that moment. Such a claim is printed with the verdict of this run, so the
//! reader sees it, and the notebook runner (`harness/nbexec.py`) lists the claims a run did not
//! show without failing the notebook.

use std::fmt::Display;

/// How a claim this run did not show starts its line; the notebook runner looks for it.
pub const CLAIM_NOT_SEEN: &str = "✘ not seen on this run:";

/// How a claim this run showed starts its line.
pub const CLAIM_SEEN: &str = "✔ seen on this run:";

/// Prints whether this run's numbers show `statement` and returns `holds`.
///
/// Use it for claims about speed that depend on the machine or its load; keep `assert!` for
/// what must hold everywhere.
///
/// ```
/// use hpr::claim;
/// let speedup = 1.9;
/// assert!(claim(speedup > 1.5, format_args!("two threads are {speedup:.2}× faster than one")));
/// ```
pub fn claim(holds: bool, statement: impl Display) -> bool {
    println!("{}", claim_line(holds, &statement));
    holds
}

fn claim_line(holds: bool, statement: &dyn Display) -> String {
    if holds {
        format!("{CLAIM_SEEN} {statement}")
    } else {
        format!(
            "{CLAIM_NOT_SEEN} {statement} (timings depend on the machine and its load: the \
             numbers above are what this run measured; run the cell again to compare)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_that_holds_is_marked_seen() {
        let line = claim_line(true, &"two cores beat one");
        assert_eq!(line, format!("{CLAIM_SEEN} two cores beat one"));
        assert!(!line.contains(CLAIM_NOT_SEEN));
    }

    #[test]
    fn a_claim_that_fails_starts_with_the_runners_marker() {
        let line = claim_line(false, &format_args!("{}× faster", 1.1));
        assert!(line.starts_with(CLAIM_NOT_SEEN), "{line}");
        assert!(line.contains("1.1× faster"), "{line}");
    }

    #[test]
    fn claim_returns_its_verdict() {
        assert!(claim(true, "holds"));
        assert!(!claim(false, "does not hold"));
    }
}
