//! Every notebook is valid nbformat 4 for the `rust` kernel, without outputs, with the shared
//! setup cell.

use notebook_tests::{notebooks, python, root, static_problems, SETUP_LINES};

#[test]
fn every_notebook_passes_the_static_checks() {
    let notebooks = notebooks();
    assert!(!notebooks.is_empty(), "no notebooks found in notebooks/");
    let mut report = Vec::new();
    for path in &notebooks {
        let text = std::fs::read_to_string(path).unwrap();
        let parsed: serde_json::Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(error) => {
                report.push(format!("{}: not valid JSON: {error}", path.display()));
                continue;
            }
        };
        for problem in static_problems(&parsed) {
            report.push(format!("{}: {problem}", path.display()));
        }
    }
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}

#[test]
fn notebooks_are_numbered() {
    for path in notebooks() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let number = name.split('-').next().unwrap();
        assert!(
            number.len() == 2 && number.chars().all(|c| c.is_ascii_digit()),
            "{name} should start with a two-digit chapter number"
        );
    }
}

#[test]
fn the_readme_shows_the_setup_cell_the_checks_enforce() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```\n{SETUP_LINES}\n```")),
        "README.md's setup cell differs from notebook_tests::SETUP_LINES:\n{SETUP_LINES}"
    );
    let guide = std::fs::read_to_string(root().join("CONTRIBUTING.md")).unwrap();
    assert!(
        guide.contains(&format!("```\n{SETUP_LINES}\n```")),
        "CONTRIBUTING.md's setup cell differs from notebook_tests::SETUP_LINES"
    );
}

/// Every crate a notebook kernel builds has an exact version in helpers/kernel-pins, each chapter
/// cell with its own `:dep` lines enables their pins, and the pins hold in a resolution beside
/// hpr (else a patch release on crates.io rebuilds polars cold): scripts/kernel_pins.py checks it.
#[test]
fn kernel_dependency_versions_are_pinned() {
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    let output = std::process::Command::new(python)
        .arg(root().join("scripts/kernel_pins.py"))
        .output()
        .expect("runs scripts/kernel_pins.py");
    assert!(
        output.status.success(),
        "scripts/kernel_pins.py found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
