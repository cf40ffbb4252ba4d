//! A cell that ends in a value compiles once with hpr's prelude in scope, twice without it.
//!
//! evcxr first compiles such a cell as `(value).evcxr_display();` and, when the type has no such
//! method, throws that build away and compiles again with `Debug`. `hpr::render::DebugValue`
//! gives every `Debug` type the method. The fixtures name `hpr-count-rustc` as cargo's rustc; it
//! logs the exit status of every compilation of the cell crate.

use notebook_tests::{jupyter_script, parse_report, python, root, source};
use serde_json::Value;
use std::path::Path;

struct Run {
    /// Exit statuses of rustc for the cell crate, in order.
    statuses: Vec<i32>,
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
    jupyter_script(&python, "nbexec.py")
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
    let statuses = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("no compilation was logged in {}: {e}", log.display()))
        .lines()
        .map(|line| line.trim_start_matches("ctx ").parse().unwrap())
        .collect();
    Run {
        statuses,
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
}
