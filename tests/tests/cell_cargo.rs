//! hpr-cell-cargo (helpers/cell-cargo) in a real kernel: after the first cell, cells compile by
//! replaying rustc, and a path dependency edited between two cells is rebuilt, not replayed stale.

use notebook_tests::{execute_with_env, root};

#[test]
fn cells_replay_rustc_until_a_path_dependency_changes() {
    let cell_cargo = root().join("target/release/hpr-cell-cargo");
    assert!(
        cell_cargo.exists(),
        "{} is missing: setup builds it (cargo build --release -p hpr-cell-cargo)",
        cell_cargo.display()
    );
    let work = root().join("target/cell-cargo-fixture");
    let _ = std::fs::remove_dir_all(&work);
    let tiny = work.join("tiny");
    std::fs::create_dir_all(tiny.join("src")).unwrap();
    let manifest = "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
    std::fs::write(tiny.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(tiny.join("src/lib.rs"), "pub fn value() -> u32 { 1 }\n").unwrap();
    // A build folder of its own, deleted with the test: the fixture has no `:cache` line, so
    // evcxr's compile cache neither serves nor records anything built there. Outside the
    // repository, where cargo would take the cell crate for a member of the workspace.
    let builds = std::env::temp_dir().join(format!("hpr-cell-cargo-test-{}", std::process::id()));
    let notebook = root().join("tests/fixtures/cell_cargo/edited_dependency.ipynb");
    let env = [("HPR_EVCXR_BUILD_DIR", builds.to_str().unwrap())];
    let outcomes = execute_with_env(&[notebook], 300, &env).unwrap_or_else(|e| panic!("{e}"));
    assert!(outcomes[0].failure.is_none(), "{}", outcomes[0]);

    let log = builds.join("slot-0/target/hpr-cell-cargo/builds.log");
    let log = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("hpr-cell-cargo kept no log in {}: {e}", log.display()));
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
