//! hpr-cell-cargo (kernel/cell-cargo) in a real kernel: after the first cell, cells compile by
//! replaying rustc, and a path dependency edited between two cells is rebuilt, not replayed stale;
//! evcxr's `:dep` check runs cargo (from the lock file) in every kernel, so it sees a dependency
//! change between kernels.

use notebook_tests::{assert_cell_cargo_is_built, execute_with_env, root, Outcome};
use std::path::{Path, PathBuf};

/// The crate `tiny` (`value()` returns 1) in a new folder `work`.
fn write_tiny(work: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(work);
    let tiny = work.join("tiny");
    std::fs::create_dir_all(tiny.join("src")).unwrap();
    let manifest = "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
    std::fs::write(tiny.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(tiny.join("src/lib.rs"), "pub fn value() -> u32 { 1 }\n").unwrap();
    tiny
}

/// A build folder of its own, deleted by the test: the fixtures' only dependency is a path
/// dependency, which cargo compiles incrementally and evcxr's compile cache never holds, so the
/// cache names nothing built there. Outside the repository, where cargo would take the cell
/// crate for a member of the workspace.
fn build_folder(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hpr-cell-cargo-{test}-{}", std::process::id()))
}

/// Runs a fixture in a new kernel whose build folders are under `builds`.
fn run(fixture: &str, builds: &Path) -> Outcome {
    let notebook = root().join("tests/fixtures/cell_cargo").join(fixture);
    let env = [("HPR_EVCXR_BUILD_DIR", builds.to_str().unwrap())];
    let mut outcomes = execute_with_env(&[notebook], 300, &env).unwrap_or_else(|e| panic!("{e}"));
    outcomes.remove(0)
}

/// hpr-cell-cargo's log in the first build folder: one line per build or `cargo metadata`.
fn log(builds: &Path) -> String {
    let log = builds.join("slot-0/target/hpr-cell-cargo/builds.log");
    std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("hpr-cell-cargo kept no log in {}: {e}", log.display()))
}

#[test]
fn cells_replay_rustc_until_a_path_dependency_changes() {
    assert_cell_cargo_is_built();
    let work = root().join("target/cell-cargo-fixture");
    write_tiny(&work);
    let builds = build_folder("edit");
    let outcome = run("edited_dependency.ipynb", &builds);
    assert!(outcome.failure.is_none(), "{outcome}");

    let log = log(&builds);
    // One line per build: `replay`, or `cargo (why)`.
    let replays = log.lines().filter(|l| *l == "replay").count();
    assert!(replays >= 3, "too few replays:\n{log}");
    // The edit is what sent the cell after it back to cargo.
    let edited = log
        .lines()
        .any(|l| l.starts_with("cargo (changed: file ") && l.contains("tiny/src/lib.rs"));
    assert!(
        edited,
        "cargo did not run for the edited dependency:\n{log}"
    );
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&builds);
}

#[test]
fn a_restarted_kernels_dependency_check_sees_a_changed_dependency() {
    assert_cell_cargo_is_built();
    let work = root().join("target/cell-cargo-restart");
    let tiny = write_tiny(&work);
    let builds = build_folder("restart");
    let metadata_lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.starts_with("metadata "))
            .map(str::to_owned)
            .collect()
    };

    let first = run("restarted_dependency.ipynb", &builds);
    assert!(first.failure.is_none(), "{first}");
    let after_first = log(&builds);
    let asked = metadata_lines(&after_first);
    assert!(
        !asked.is_empty() && asked.iter().all(|l| l == "metadata cargo"),
        "the kernel's :dep check did not go through hpr-cell-cargo to cargo:\n{after_first}"
    );

    // tiny loses its library: a restarted kernel's check must say so.
    std::fs::rename(tiny.join("src/lib.rs"), tiny.join("src/main.rs")).unwrap();
    std::fs::write(tiny.join("src/main.rs"), "fn main() {}\n").unwrap();
    let second = run("restarted_dependency.ipynb", &builds);
    let failure = second
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("a dependency without a library was accepted: {second}"));
    assert!(
        failure.message.contains("missing a lib target"),
        "evcxr's check did not report the missing library: {second}"
    );
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&builds);
}
