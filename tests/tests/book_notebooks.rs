//! Executes every notebook of the book through Jupyter with the evcxr kernel, in check mode
//! (every measurement at hpr's smallest settings: the same code, parameters and `assert!`s), with
//! the package registries out of reach: after setup, nothing a chapter builds or runs may
//! resolve or download.

use notebook_tests::{execute_with_env, notebooks};

/// The registries cut off for the kernels and everything they start: cargo's requests go to a
/// port where nothing listens (the kernel's launcher also sets `CARGO_NET_OFFLINE`; this holds
/// without it), pip may not look at an index, and the kernels build from the lock file.
const NO_REGISTRIES: [(&str, &str); 5] = [
    ("CARGO_HTTP_PROXY", "http://127.0.0.1:9"),
    ("CARGO_NET_RETRY", "0"),
    ("PIP_NO_INDEX", "1"),
    ("HPR_KERNEL_LOCK", ""),
    ("HPR_MODE", "check"),
];

#[test]
fn every_notebook_runs_without_error_panic_or_timeout() {
    let outcomes =
        execute_with_env(&notebooks(), 600, &NO_REGISTRIES).unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| o.failure.is_some())
        .map(|o| o.to_string())
        .collect();
    for outcome in &outcomes {
        println!("{outcome}");
    }
    assert!(!outcomes.is_empty(), "no notebooks were executed");
    for outcome in &outcomes {
        assert_eq!(
            outcome.mode, "check",
            "{} ran in another mode",
            outcome.name
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
