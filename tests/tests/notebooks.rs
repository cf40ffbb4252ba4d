//! Executes every notebook of the book through Jupyter with the evcxr kernel.

use notebook_tests::{execute, notebooks};

#[test]
fn every_notebook_runs_without_error_panic_or_timeout() {
    let outcomes = execute(&notebooks(), 600).unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| o.failure.is_some())
        .map(|o| o.to_string())
        .collect();
    for outcome in &outcomes {
        println!("{outcome}");
    }
    assert!(!outcomes.is_empty(), "no notebooks were executed");
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
