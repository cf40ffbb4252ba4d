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

/// Cargo.lock holds every crate of every notebook's `:dep` lines (through kernel/deps), no
/// notebook fixes a version itself, and python-lock.txt holds every package environment.yml pins:
/// scripts/lock.py checks it.
#[test]
fn the_lock_files_cover_the_notebooks_and_the_environment() {
    let output = lock_check(&[]);
    assert!(
        output.status.success(),
        "scripts/lock.py found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The same check fails, naming the crate and the notebook, for a `:dep` line the lock file lacks
/// and for a version fixed in a notebook.
#[test]
fn the_lock_check_names_what_the_lock_file_lacks() {
    let fixtures = root().join("tests/fixtures/lock");
    let output = lock_check(&["--notebooks".as_ref(), fixtures.as_os_str()]);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "the check passed:\n{said}");
    for expected in [
        "unlocked.ipynb: `:dep rand` is not in kernel/deps/Cargo.toml, so Cargo.lock lacks it",
        "fixedbitset (unlocked.ipynb): '=0.5.7' fixes a version in a notebook",
    ] {
        assert!(said.contains(expected), "missing {expected:?} in:\n{said}");
    }
}

fn lock_check(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    std::process::Command::new(python)
        .arg(root().join("scripts/lock.py"))
        .args(args)
        .output()
        .expect("runs scripts/lock.py")
}
