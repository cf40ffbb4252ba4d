//! The kernel runs evcxr_jupyter as `kernel/evcxr/install.sh` builds it: evcxr 0.22.0 from
//! crates.io with `kernel/evcxr/*.patch` applied. The patches change how evcxr drives
//! rust-analyzer (library roots for the standard library and registry crates; their analysis
//! computed on all cores in the background when dependencies change, and a cell's source given
//! to rust-analyzer only when a query needs it); rust-analyzer is also what tells evcxr the type
//! of every variable a cell keeps (unless the cell writes the type out in full: evcxr then keeps
//! it as written, without asking), so a kernel whose analysis of library code broke would fail on
//! the fixture's second cell, and one whose queries raced the background analysis would answer
//! completions or keep variables wrongly in the analysis check.

use notebook_tests::{analysis_check, execute, notebooks_in, path_with_cargo_bin, root};
use std::process::Command;

#[test]
fn the_kernel_runs_the_patched_evcxr_build() {
    let script = root().join("kernel/evcxr/install.sh");
    let status = Command::new(&script)
        .arg("--check")
        .env("PATH", path_with_cargo_bin())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        status.success(),
        "the installed evcxr_jupyter is not the build of {} with its patches \
         (`cargo install --list` names another source); run scripts/setup.sh",
        script.display()
    );
}

#[test]
fn variables_keep_their_types_across_cells() {
    let fixtures = notebooks_in(&root().join("tests/fixtures/evcxr"));
    let outcomes = execute(&fixtures, 600).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcomes.len(), 1, "{outcomes:#?}");
    let outcome = &outcomes[0];
    assert!(
        outcome.failure.is_none(),
        "variables did not carry across cells: {outcome}"
    );
}

#[test]
fn completions_and_variables_work_while_the_analysis_runs_in_the_background() {
    let report = analysis_check().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["setup"]["status"], "ok", "{report:#}");
    // The analysis yields the cores to cargo, rustc and the cells: every analysis thread seen
    // from the setup cell's start runs at nice 19, and at least one was seen.
    let nice = report["priming_nice"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!nice.is_empty(), "no analysis thread was seen: {report:#}");
    assert!(nice.iter().all(|n| n == 19), "{report:#}");
    let matches = |label: &str| -> Vec<String> {
        let completion = &report["completions"][label];
        assert_eq!(completion["status"], "ok", "{report:#}");
        serde_json::from_value(completion["matches"].clone()).unwrap_or_default()
    };
    // A method of a std type, and a function of hpr, added by the setup cell's `:dep`; evcxr
    // writes each match as a call with its parameters.
    let offers = |label: &str, name: &str| {
        matches(label).iter().any(|m| {
            m.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('('))
        })
    };
    assert!(offers("std method", "iter"), "{report:#}");
    assert!(offers("hpr function", "random_u64s"), "{report:#}");
    assert_eq!(report["define"]["status"], "ok", "{report:#}");
    assert_eq!(report["use"]["value"], "6", "{report:#}");
    // A type written out in full is kept as written (rust-analyzer, asked, would have said
    // `String`); an inferred one is rust-analyzer's, as evcxr names it.
    assert_eq!(report["written"]["status"], "ok", "{report:#}");
    let vars = report["vars"]["value"].as_str().unwrap_or_default();
    let listed: Vec<&str> = vars.lines().map(str::trim).collect();
    assert!(listed.contains(&"label: std::string::String"), "{report:#}");
    let inferred = |l: &&str| l.starts_with("grid: ") && l.contains("ArrayBase<");
    assert!(listed.iter().any(inferred), "{report:#}");
}
