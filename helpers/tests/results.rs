//! Recording results under the notebook runner: each `record` appends one JSON line to the file
//! the runner names. (A test binary of its own: it sets an environment variable.)

use hpr::{Headline, RESULTS_FILE_ENV};

#[test]
fn records_append_json_lines_to_the_runners_file() {
    let path = std::env::temp_dir().join(format!("hpr-results-test-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    std::env::set_var(RESULTS_FILE_ENV, &path);
    Headline::new("sum throughput", 31.3, "GB/s")
        .record()
        .unwrap();
    Headline::new("speedup", 4.8, "×")
        .compares("sequential against random reads")
        .noise(0.04)
        .record()
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["name"], "sum throughput");
    assert_eq!(lines[0]["value"], 31.3);
    assert_eq!(lines[1]["compares"], "sequential against random reads");
    assert_eq!(lines[1]["noise"], 0.04);
}
