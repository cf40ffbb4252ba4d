//! The kernel runs evcxr_jupyter as `scripts/evcxr/install.sh` builds it: evcxr 0.22.0 from
//! crates.io with `scripts/evcxr/*.patch` applied. The patches change how evcxr drives
//! rust-analyzer (library roots for the standard library and registry crates, their analysis
//! primed on all cores when dependencies change); rust-analyzer is also what tells evcxr the type
//! of every variable a cell keeps, so a kernel whose analysis of library code broke would fail on
//! the fixture's second cell.

use notebook_tests::{execute, notebooks_in, path_with_cargo_bin, root};
use std::process::Command;

#[test]
fn the_kernel_runs_the_patched_evcxr_build() {
    let script = root().join("scripts/evcxr/install.sh");
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
