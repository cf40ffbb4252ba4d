//! A cell that ends in a value compiles once with hpr's prelude in scope, twice without it.
//!
//! evcxr first compiles such a cell as `(value).evcxr_display();` and, when the type has no such
//! method, throws that build away and compiles again with `Debug`. `hpr::render::DebugValue`
//! gives every `Debug` type the method. The fixtures name `hpr-count-rustc` as cargo's rustc; it
//! logs the exit status of every compilation of the cell crate, and how the cell reaches evcxr's
//! runtime (the variable store every cell that keeps a variable calls): the patched evcxr
//! (`kernel/evcxr/5-runtime-crate.patch`) compiles it once as a crate of its own, where evcxr
//! 0.22 pastes it into every such cell for rustc to compile again.

use notebook_tests::{jupyter_script, parse_report, python, root, source, RUNNER};
use serde_json::Value;
use std::path::Path;

struct Run {
    /// Exit statuses of rustc for the cell crate, in order.
    statuses: Vec<i32>,
    /// For each of those compilations, how the cell's source reached evcxr's runtime: `module`
    /// (pasted into the cell), `crate` (calls the crate) or `none` (no variable kept yet).
    runtimes: Vec<String>,
    /// What the cell `values` showed as `text/plain`.
    shown: String,
}

fn run(name: &str) -> Run {
    let dir = root().join("target/compile-count").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (log, report, out) = (
        dir.join("rustc.log"),
        dir.join("report.json"),
        dir.join("out"),
    );
    let fixtures = root().join("tests/fixtures/compiles");
    let path = format!(
        "{}:{}/.cargo/bin:{}",
        fixtures.join("bin").display(),
        std::env::var("HOME").unwrap_or_default(),
        std::env::var("PATH").unwrap_or_default()
    );
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    jupyter_script(&python, RUNNER)
        .env("PATH", path)
        .env("HPR_RUSTC_LOG", &log)
        .arg("--report")
        .arg(&report)
        .arg("--out")
        .arg(&out)
        .arg(fixtures.join(format!("{name}.ipynb")))
        .status()
        .unwrap();
    let outcomes = parse_report(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(outcomes[0].failure.is_none(), "{}", outcomes[0]);
    let logged = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("no compilation was logged in {}: {e}", log.display()));
    let (mut statuses, mut runtimes) = (Vec::new(), Vec::new());
    for line in logged.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_ctx, status, runtime] = fields[..] else {
            panic!("unexpected line {line:?} in {}", log.display());
        };
        statuses.push(status.parse().unwrap());
        runtimes.push(runtime.to_owned());
    }
    Run {
        statuses,
        runtimes,
        shown: shown_by(&out.join(format!("{name}.ipynb")), "values"),
    }
}

fn shown_by(executed: &Path, cell_source: &str) -> String {
    let notebook: Value =
        serde_json::from_str(&std::fs::read_to_string(executed).unwrap()).unwrap();
    let cell = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| source(c) == cell_source)
        .unwrap_or_else(|| panic!("no cell {cell_source:?} in {}", executed.display()));
    let outputs = cell["outputs"].as_array().unwrap();
    let text = outputs
        .iter()
        .find_map(|o| o["data"].get("text/plain"))
        .unwrap_or_else(|| panic!("{cell_source:?} showed nothing: {outputs:?}"));
    match text {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        other => other.as_str().unwrap_or_default().to_owned(),
    }
}

#[test]
fn a_last_value_compiles_once_with_the_prelude_and_shows_the_same() {
    let without = run("last_value_without_hpr");
    let failed = |run: &Run| run.statuses.iter().filter(|&&s| s != 0).count();
    // The reference shows that the log sees evcxr's thrown-away builds.
    assert!(
        failed(&without) >= 2,
        "evcxr no longer compiles a value twice; DebugValue may go: {:?}",
        without.statuses
    );
    let with = run("last_value_with_prelude");
    assert_eq!(
        failed(&with),
        0,
        "a cell was compiled twice with hpr's prelude: {:?}",
        with.statuses
    );
    assert!(with.statuses.len() >= 4, "{:?}", with.statuses);
    assert_eq!(with.shown, "[1, 2, 3]");
    assert_eq!(with.shown, without.shown);
    // The same kernel run (one kernel at a time keeps this test quick on two cores).
    cells_that_keep_variables_call_the_runtime_crate(&with);
}

/// The fixture keeps `values` and uses it in later cells, which need the variable store: they
/// must call the crate, and no cell may compile the runtime as its own module.
fn cells_that_keep_variables_call_the_runtime_crate(with: &Run) {
    let count = |kind: &str| with.runtimes.iter().filter(|r| *r == kind).count();
    assert!(
        count("crate") >= 2,
        "the cells that use a kept variable did not call evcxr_internal_runtime: {:?}",
        with.runtimes
    );
    assert_eq!(
        count("module"),
        0,
        "cells compiled evcxr's runtime as a module of their own (is the evcxr build \
         kernel/evcxr/5-runtime-crate.patch makes installed?): {:?}",
        with.runtimes
    );
}
