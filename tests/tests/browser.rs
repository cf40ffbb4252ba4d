//! The readers open these notebooks in JupyterLab, so the tour is run there, in a real browser
//! (Debian's Chromium driven by Playwright), and its rendered page is checked.

use notebook_tests::{browser_check, root};
use serde_json::Value;

fn check(notebook: &str, screenshot: &str) -> Option<Value> {
    let report = browser_check(&root().join(notebook), &root().join(screenshot))
        .unwrap_or_else(|e| panic!("{e}"));
    if report["status"] == "skipped" {
        // Only a machine where no Chromium can be installed gets here (`make setup` installs it).
        eprintln!("SKIPPED the browser test: {}", report["problems"][0]);
        return None;
    }
    Some(report)
}

#[test]
fn the_tour_renders_tables_and_plots_in_jupyterlab_and_a_broken_notebook_is_caught() {
    let Some(tour) = check("notebooks/00-tour.ipynb", "build/jupyterlab-tour.png") else {
        return;
    };
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
    )
    .expect("Chromium was there a moment ago");
    assert_eq!(broken["status"], "failed", "{broken:#}");
    let problems = broken["problems"].to_string();
    for expected in ["no table", "no SVG plot", "panicked"] {
        assert!(
            problems.contains(expected),
            "{expected:?} missing: {broken:#}"
        );
    }
}
