//! The harness itself: deliberately broken notebooks must each fail, for the right reason.

use notebook_tests::{
    execute_with_env, jupyter_script, notebooks_in, parse_report, python, python_json, root, RUNNER,
};
use std::path::Path;

#[test]
fn broken_fixtures_fail_with_the_right_reason() {
    let fixtures = notebooks_in(&root().join("tests/fixtures"));
    // A short cell limit keeps the infinite loop cheap; the fixtures load no dependencies.
    // The marker cell that collects late output answers in a second or two; 20 s keeps the
    // fixture that blocks it cheap.
    let env = [("HPR_LATE_OUTPUT_SECONDS", "20")];
    let outcomes = execute_with_env(&fixtures, 30, &env).unwrap_or_else(|e| panic!("{e}"));
    let expected = [
        (
            "chart_layout",
            Some((
                "chart_layout",
                0,
                "'pandas apply(raw=True)' and 'numpy, vectorised' are drawn over each other",
            )),
        ),
        ("claim_not_seen", None),
        (
            "compile_error",
            Some(("compile_error", 1, "undefined_thing")),
        ),
        (
            "display_fallback",
            Some(("display_fallback", 0, "Timing { median: 1.0 }")),
        ),
        // A torn results file fails its notebook, and the notebooks after it still run.
        (
            "half_written_results",
            Some(("results", 0, "line 1 of half_written_results.jsonl")),
        ),
        ("infinite_loop", Some(("timeout", 0, "longer than 30 s"))),
        ("kernel_death", Some(("kernel_death", 0, "SIGABRT"))),
        // The error reaches Jupyter after the cell has finished: the runner must still see it.
        // Output that may still be on its way is no pass: the marker cell never answered.
        (
            "late_output_unconfirmed",
            Some(("late_output", 0, "did not answer within 20 s")),
        ),
        ("late_stderr", Some(("stderr", 0, "invalid digit"))),
        ("panic", Some(("panic", 0, "index out of bounds"))),
        ("passing", None),
        ("question_mark_error", Some(("stderr", 0, "invalid digit"))),
    ];
    assert_eq!(outcomes.len(), expected.len(), "{outcomes:#?}");
    for (outcome, (name, want)) in outcomes.iter().zip(expected) {
        assert_eq!(outcome.name, name);
        match (want, &outcome.failure) {
            (None, None) => {}
            (Some((reason, cell, text)), Some(failure)) => {
                assert_eq!(failure.reason, reason, "{outcome}");
                assert_eq!(failure.cell, Some(cell), "{outcome}");
                assert!(failure.message.contains(text), "{outcome}");
            }
            _ => panic!("unexpected outcome: {outcome}"),
        }
    }
    let passing = outcomes.iter().find(|o| o.name == "passing").unwrap();
    assert_eq!(passing.headlines, ["six sevens make 42"], "{passing}");
    let not_seen = outcomes
        .iter()
        .find(|o| o.name == "claim_not_seen")
        .unwrap();
    let claims = &not_seen.claims_not_seen;
    assert_eq!(
        claims,
        &["✘ not seen on this run: two threads beat one"],
        "only the claim not seen is listed"
    );
}

/// Runs `nbexec.py --out OUT` on `notebooks` with `HPR_TEST_ANSWER=answer`; returns its stdout.
/// OUT is relative to the workspace root, as `make run` gives `build`.
fn run_into(out: &Path, notebooks: &[&str], answer: &str) -> String {
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    let run = jupyter_script(&python, RUNNER)
        .env("HPR_TEST_ANSWER", answer)
        .arg("--out")
        .arg(out)
        .args(notebooks.iter().map(|n| root().join(n)))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{stdout}");
    stdout
}

#[test]
fn results_outlive_the_run_and_the_gallery_shows_them_with_what_changed() {
    // Relative, as `make run` passes it: the kernels run elsewhere, in their notebook's folder.
    let relative = Path::new("target/gallery-test");
    let out = root().join(relative);
    let _ = std::fs::remove_dir_all(&out);
    let notebooks = [
        "tests/fixtures/passing.ipynb",
        "tests/fixtures/results/recorded.ipynb",
    ];
    run_into(relative, &notebooks, "42");
    let results = std::fs::read_to_string(out.join("results/recorded.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert_eq!(results["results"][0]["name"], "answer", "{results:#}");
    assert_eq!(results["results"][0]["value"], 42.0, "{results:#}");
    assert_eq!(
        results["changes"],
        serde_json::json!([]),
        "nothing to compare with yet"
    );
    assert!(results["machine"]["summary"]
        .as_str()
        .unwrap()
        .contains("logical cores"));

    // A second run with another value: the change is beyond the recorded 1 % noise.
    let stdout = run_into(relative, &notebooks, "50");
    assert!(
        stdout.contains("changed since the previous run: answer: 42 -> 50 units (+19%"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    for expected in [
        "2 of 2 notebooks ran green",
        "<a href=\"passing.html\">",
        "<li>six sevens make 42</li>",
        "<td>answer</td><td>50 units</td><td>six sevens</td>",
        "+19% since the previous run (42)",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} missing from:\n{page}"
        );
    }
    assert!(out.join("passing.html").exists() && out.join("recorded.ipynb").exists());

    // Running one chapter keeps the others in the gallery, from their last recorded run.
    run_into(relative, &notebooks[..1], "50");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("<a href=\"recorded.html\">"), "{page}");
    assert!(page.contains("(an earlier run)"), "{page}");
    assert!(page.contains("<td>answer</td><td>50 units</td>"), "{page}");
}

#[test]
fn lessons_without_results_name_the_chapters_to_run_first() {
    let empty = root().join("target/lessons-without-results");
    let _ = std::fs::remove_dir_all(&empty);
    std::fs::create_dir_all(&empty).unwrap();
    let (report, out) = (empty.join("report.json"), empty.join("out"));
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    let status = jupyter_script(&python, RUNNER)
        .arg("--results")
        .arg(&empty)
        .arg("--out")
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .arg(root().join("notebooks/13-lessons.ipynb"))
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "chapter 13 ran green without any results"
    );
    let outcomes = parse_report(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(outcomes[0].failure.is_some(), "{}", outcomes[0]);
    // The loading cell prints the reason: evcxr's stderr (where `?` reports it) can lag behind.
    let executed = std::fs::read_to_string(out.join("13-lessons.ipynb")).unwrap();
    let executed: serde_json::Value = serde_json::from_str(&executed).unwrap();
    let loading = executed["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cell_type"] == "code" && notebook_tests::source(c).contains("load_before"))
        .expect("a cell loads the results");
    let printed = loading["outputs"].to_string();
    for expected in ["make run NB=\\\"00 01 02", "00-tour (no results file)"] {
        assert!(
            printed.contains(expected),
            "{expected:?} missing: {printed}"
        );
    }
}

#[test]
fn a_cell_without_dependencies_runs_outside_cargo() {
    // `cargo test` puts the toolchain's libraries on LD_LIBRARY_PATH; JupyterLab does not. The
    // kernel's launcher must find libstd for the cells itself.
    let dir = root().join("target/outside-cargo");
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    jupyter_script(&python, RUNNER)
        .env_remove("LD_LIBRARY_PATH")
        .arg("--report")
        .arg(&report)
        .arg(root().join("tests/fixtures/passing.ipynb"))
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    let outcomes = parse_report(&text).unwrap();
    assert!(outcomes[0].failure.is_none(), "{}", outcomes[0]);
    // Without --out or --logs the runner kept the kernel's log in a folder of its own, and
    // removed it when it ended.
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    let log = std::path::PathBuf::from(raw[0]["kernel_log"].as_str().unwrap());
    let folder = log.parent().and_then(Path::parent).unwrap();
    let name = folder.file_name().unwrap().to_string_lossy();
    assert!(
        name.starts_with("nbexec-"),
        "the log was not in the runner's folder: {log:?}"
    );
    assert!(
        !folder.exists(),
        "the runner left its folder {}",
        folder.display()
    );
}

/// The time a run will take, from the reference runs: a notebook whose crates this machine has
/// built is estimated from the warm run; one whose crate is missing also counts what the bare
/// run spent more on each cell (the one-time build).
#[test]
fn the_estimate_counts_one_time_builds_only_while_they_are_missing() {
    let script = r#"
import json, sys
sys.path.insert(0, "harness")
import nbexec
reference = {"runs": {
    "full-bare": {"cell_seconds": {"ch": [30.0, 600.0, 5.0]}},
    "full-warm": {"cell_seconds": {"ch": [2.0, 40.0, 5.0]}},
    "check-warm": {"cell_seconds": {"ch": [1.0, 35.0, 1.0]}},
}}
estimate = lambda built, mode: nbexec.reference_estimate("ch", {"hpr", "polars"}, built, reference, mode)
# The last run on this machine built polars once (700 s in its second cell).
saved = {"cell_seconds": [3.0, 700.0, 6.0], "one_time_builds": ["polars"]}
print(json.dumps({
    "built": estimate({"hpr", "polars"}, "check"),
    "missing": estimate({"hpr"}, "check"),
    "full_missing": estimate(set(), "full"),
    "saved_built": nbexec.saved_estimate("ch", saved, {"hpr", "polars"}, reference),
    "saved_missing": nbexec.saved_estimate("ch", saved, {"hpr"}, reference),
    "saved_warm": nbexec.saved_estimate("ch", {"cell_seconds": [3.0, 50.0, 6.0]}, {"hpr"}, reference),
}))
"#;
    let estimates = python_json(script);
    assert_eq!(
        estimates["built"],
        serde_json::json!([[1.0, 35.0, 1.0], []])
    );
    assert_eq!(
        estimates["missing"],
        serde_json::json!([[29.0, 595.0, 1.0], ["polars"]])
    );
    assert_eq!(
        estimates["full_missing"],
        serde_json::json!([[30.0, 600.0, 5.0], ["hpr", "polars"]])
    );
    // A last run that built polars: once polars is built, the cell that built it gets the
    // reference's warm time (the first cell built only in the reference: it keeps its own time);
    // while polars is missing, or when the last run built nothing, the last run's times stay.
    assert_eq!(
        estimates["saved_built"],
        serde_json::json!([3.0, 40.0, 6.0])
    );
    assert_eq!(
        estimates["saved_missing"],
        serde_json::json!([3.0, 700.0, 6.0])
    );
    assert_eq!(estimates["saved_warm"], serde_json::json!([3.0, 50.0, 6.0]));
}
