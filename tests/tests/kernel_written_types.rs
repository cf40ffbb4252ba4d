//! A type written in a cell never breaks or corrupts the variables the kernel keeps (evcxr patch
//! `kernel/evcxr/6-written-types.patch`). `_` in a written type (an array length, a const
//! generic argument) is left to inference as an omitted type is: kept as written, `[u8; _]` made
//! every later cell fail to compile. A redefined type loses the variables whose types mention it,
//! with evcxr's message for a variable whose type changed: a struct redefined with the same field
//! names keeps its TypeId, and its kept value was handed back read with the new layout.
//!
//! Both tests read one run of `kernel/checks/written_types_check.py`, which drives real kernels.

use notebook_tests::written_types_check;
use serde_json::Value;
use std::sync::OnceLock;

/// The check's report, run once for both tests.
fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| written_types_check().unwrap_or_else(|e| panic!("{e}")))
}

/// The message evcxr prints for a kept variable whose type changed.
fn lost(variable: &str) -> String {
    format!("The type of the variable {variable} was redefined, so was lost.")
}

#[test]
fn an_underscore_in_a_written_type_is_inferred() {
    let cells = &report()["inferred"];
    let cell = |label: &str| &cells[label];
    for (label, result) in cells.as_object().expect("the inferred part ran") {
        assert_eq!(result["status"], "ok", "{label}: {cells:#}");
        // The marker cell after each one compiles too.
        assert!(result["marker_error"].is_null(), "{label}: {cells:#}");
    }
    assert_eq!(cell("after_length")["value"], "4", "{cells:#}");
    assert_eq!(cell("read_length")["value"], "3", "{cells:#}");
    assert_eq!(cell("read_nested_length")["value"], "4", "{cells:#}");
    assert_eq!(cell("read_const_generic")["value"], "4", "{cells:#}");
    assert_eq!(cell("read_type_and_const")["value"], "11", "{cells:#}");
    // Every kept type is inference's, with the lengths filled in.
    let vars = cell("vars")["value"].as_str().unwrap_or_default();
    let listed: Vec<&str> = vars.lines().map(str::trim).collect();
    assert!(listed.contains(&"a: [u8; 3]"), "{cells:#}");
    assert!(listed.contains(&"grid: [[u8; 2]; 2]"), "{cells:#}");
    assert_eq!(listed.len(), 4, "{cells:#}");
    assert!(listed.iter().all(|line| !line.contains('_')), "{cells:#}");
}

#[test]
fn a_redefined_type_loses_the_variables_that_mention_it() {
    let cells = &report()["redefined"];
    let cell = |label: &str| &cells[label];
    let stderr = |label: &str| cell(label)["stderr"].as_str().unwrap_or_default();
    for label in [
        "define",
        "same_again",
        "redefine",
        "fresh",
        "redefine_and_let",
        "respaced",
        "define_buffer",
        "redefine_length",
    ] {
        assert_eq!(cell(label)["status"], "ok", "{label}: {cells:#}");
    }
    // The same definition again loses nothing.
    assert!(!stderr("same_again").contains("was lost"), "{cells:#}");
    assert_eq!(
        cell("read_after_same")["value"],
        "(true, 7, 8)",
        "{cells:#}"
    );

    // `struct P { a: i64, b: u64 }` loses `p`, and `held`, whose type has a field of type P;
    // `kept` stays.
    assert!(stderr("redefine").contains(&lost("p")), "{cells:#}");
    assert!(stderr("redefine").contains(&lost("held")), "{cells:#}");
    assert!(!stderr("redefine").contains(&lost("kept")), "{cells:#}");
    for (label, variable) in [("read_redefined", "`p`"), ("read_holder", "`held`")] {
        let read = cell(label);
        assert_eq!(read["status"], "error", "{label}: {cells:#}");
        // Before the fix: `(-1, 7)`, u64::MAX read as an i64.
        assert!(read["value"].is_null(), "{label}: {cells:#}");
        let error = read["error"].as_str().unwrap_or_default();
        assert!(error.contains(variable), "{label}: {cells:#}");
    }
    assert_eq!(cell("read_kept")["value"], "42", "{cells:#}");
    assert_eq!(cell("read_fresh")["value"], "(-1, 7)", "{cells:#}");

    // Redefined in the cell that defines `p` again: the old value is lost, the new one kept.
    assert!(stderr("redefine_and_let").contains(&lost("p")), "{cells:#}");
    assert_eq!(
        cell("read_redefined_and_let")["value"],
        "(-2, 9)",
        "{cells:#}"
    );
    // Spaces and a comment alone are not a new definition.
    assert!(!stderr("respaced").contains("was lost"), "{cells:#}");
    assert_eq!(cell("read_respaced")["value"], "(-2, 9)", "{cells:#}");
    // A constant that a struct's definition uses as an array length changes the struct.
    assert!(
        stderr("redefine_length").contains(&lost("buffer")),
        "{cells:#}"
    );
    assert_eq!(cell("read_buffer")["status"], "error", "{cells:#}");
}
