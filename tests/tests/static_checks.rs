//! Every notebook is valid nbformat 4 for the `rust` kernel, without outputs, with the shared
//! setup cell.

use notebook_tests::{notebooks, static_problems};

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
