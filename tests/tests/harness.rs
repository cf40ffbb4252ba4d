//! The harness itself: deliberately broken notebooks must each fail, for the right reason.

use notebook_tests::{execute, jupyter_script, notebooks_in, python, root};

#[test]
fn broken_fixtures_fail_with_the_right_reason() {
    let fixtures = notebooks_in(&root().join("tests/fixtures"));
    // A short cell limit keeps the infinite loop cheap; the fixtures load no dependencies.
    let outcomes = execute(&fixtures, 30).unwrap_or_else(|e| panic!("{e}"));
    let expected = [
        ("claim_not_seen", None),
        (
            "compile_error",
            Some(("compile_error", 1, "undefined_thing")),
        ),
        (
            "display_fallback",
            Some(("display_fallback", 0, "Timing { median: 1.0 }")),
        ),
        ("infinite_loop", Some(("timeout", 0, "longer than 30 s"))),
        ("kernel_death", Some(("kernel_death", 0, "SIGABRT"))),
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
    let passing = &outcomes[6];
    assert_eq!(passing.headlines, ["six sevens make 42"], "{passing}");
    let claims = &outcomes[0].claims_not_seen;
    assert_eq!(
        claims,
        &["✘ not seen on this run: two threads beat one"],
        "only the claim not seen is listed"
    );
}

#[test]
fn the_gallery_lists_each_notebook_with_its_status_headlines_and_link() {
    let out = root().join("target/gallery-test");
    let _ = std::fs::remove_dir_all(&out);
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    let run = jupyter_script(&python, "nbexec.py")
        .arg("--out")
        .arg(&out)
        .arg(root().join("tests/fixtures/passing.ipynb"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    for expected in [
        "1 of 1 notebooks ran green",
        "<a href=\"passing.html\">",
        "<li>six sevens make 42</li>",
        "logical cores",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} missing from:\n{page}"
        );
    }
    assert!(out.join("passing.html").exists() && out.join("passing.ipynb").exists());
}
