//! The readers open these notebooks in JupyterLab, so the tour is run there, in a real browser
//! (Debian's Chromium driven by Playwright), and its rendered page is checked.

use notebook_tests::{browser_check, root};
use serde_json::Value;

fn check(notebook: &str, screenshot: &str) -> Value {
    let report = browser_check(&root().join(notebook), &root().join(screenshot))
        .unwrap_or_else(|e| panic!("{e}"));
    // `make setup` installs Chromium: a machine without it has not run setup to the end, and a
    // test that passed without a browser would prove nothing.
    assert_ne!(
        report["status"], "skipped",
        "the browser test cannot run: {}",
        report["problems"][0]
    );
    report
}

#[test]
fn the_tour_renders_tables_and_plots_in_jupyterlab_and_a_broken_notebook_is_caught() {
    let tour = check("notebooks/00-tour.ipynb", "build/jupyterlab-tour.png");
    assert_eq!(tour["status"], "passed", "{tour:#}");
    assert!(tour["tables"].as_u64().unwrap() > 0, "{tour:#}");
    assert!(tour["plots"].as_u64().unwrap() > 0, "{tour:#}");
    let screenshot = std::fs::read(root().join("build/jupyterlab-tour.png")).unwrap();
    assert!(
        screenshot.starts_with(b"\x89PNG"),
        "the screenshot is not a PNG"
    );

    // The same check fails on a notebook whose cell panics: the check can see a broken page.
    let broken = check(
        "tests/fixtures/browser/broken.ipynb",
        "target/browser/broken.png",
    );
    assert_eq!(broken["status"], "failed", "{broken:#}");
    let problems = broken["problems"].to_string();
    for expected in ["no table", "no SVG plot", "panicked"] {
        assert!(
            problems.contains(expected),
            "{expected:?} missing: {broken:#}"
        );
    }
}
