//! A polars categorical frame made in one cell and dropped by a later one: evcxr links a copy of
//! polars into every cell, and polars 0.55 frees a categorical dictionary's empty table by
//! comparing its address with its own copy's `static`; another copy frees the first copy's static
//! and glibc aborts. `keep_categories` (chapter 07) leaks one reference so no cell ever frees it.

use notebook_tests::{execute, notebooks_in, root};

#[test]
fn categorical_frames_survive_later_cells_only_when_kept() {
    let fixtures = notebooks_in(&root().join("tests/fixtures/polars"));
    let outcomes = execute(&fixtures, 600).unwrap_or_else(|e| panic!("{e}"));
    let outcome = |name: &str| {
        outcomes
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no outcome for {name}: {outcomes:#?}"))
    };
    let kept = outcome("categoricals_across_cells");
    assert!(
        kept.failure.is_none(),
        "kept categoricals must survive: {kept}"
    );
    let dropped = outcome("categoricals_dropped_elsewhere");
    let failure = dropped.failure.as_ref().unwrap_or_else(|| {
        panic!("polars no longer aborts here: keep_categories may go ({dropped})")
    });
    assert_eq!(failure.reason, "kernel_death", "{dropped}");
    assert!(failure.message.contains("SIGABRT"), "{dropped}");
    // Cell 5 is the first drop in a third cell (cell 0 is the title).
    assert_eq!(failure.cell, Some(5), "{dropped}");
}
