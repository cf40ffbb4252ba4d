//! Executes every notebook of the book through Jupyter with the evcxr kernel, in check mode
//! (every measurement at hpr's smallest settings: the same code, parameters and `assert!`s), with
//! the package registries out of reach: after setup, nothing a chapter builds or runs may
//! resolve or download.
//!
//! The chapters run in three tests, so that `make test` spreads them over its two lanes: the
//! first chapters beside the other tests, the later ones after those tests in the other lane, and
//! the closing chapter, which reads every other chapter's results, alone once both are done.

use notebook_tests::{execute_with_env, notebooks};
use std::path::{Path, PathBuf};

/// The registries cut off for the kernels and everything they start: cargo's requests go to a
/// port where nothing listens (the kernel's launcher also sets `CARGO_NET_OFFLINE`; this holds
/// without it), pip may not look at an index, and the kernels build from the lock file.
const NO_REGISTRIES: [(&str, &str); 5] = [
    ("CARGO_HTTP_PROXY", "http://127.0.0.1:9"),
    ("CARGO_NET_RETRY", "0"),
    ("PIP_NO_INDEX", "1"),
    ("HPR_KERNEL_LOCK", ""),
    ("HPR_MODE", "check"),
];

/// The first chapter of the later ones, which run in the other lane.
const LATER_FROM: u32 = 9;

fn chapter_number(path: &Path) -> u32 {
    let name = path.file_name().unwrap().to_string_lossy();
    name[..2]
        .parse()
        .unwrap_or_else(|_| panic!("{name} has no chapter number"))
}

/// The chapters in three parts: before [`LATER_FROM`], from it on but for the last, and the last
/// (which reads the results of all the others).
fn parts() -> [Vec<PathBuf>; 3] {
    let all = notebooks();
    let last = all
        .iter()
        .map(|p| chapter_number(p))
        .max()
        .expect("no notebooks in notebooks/");
    let part = |keep: &dyn Fn(u32) -> bool| -> Vec<PathBuf> {
        all.iter()
            .filter(|p| keep(chapter_number(p)))
            .cloned()
            .collect()
    };
    [
        part(&|n| n < LATER_FROM),
        part(&|n| n >= LATER_FROM && n != last),
        part(&|n| n == last),
    ]
}

fn run_in_check_mode(notebooks: &[PathBuf]) {
    assert!(!notebooks.is_empty(), "no notebooks were selected");
    let outcomes =
        execute_with_env(notebooks, 600, &NO_REGISTRIES).unwrap_or_else(|e| panic!("{e}"));
    for outcome in &outcomes {
        println!("{outcome}");
    }
    assert_eq!(
        outcomes.len(),
        notebooks.len(),
        "the runner reported {} of {} notebooks",
        outcomes.len(),
        notebooks.len()
    );
    for outcome in &outcomes {
        assert_eq!(
            outcome.mode, "check",
            "{} ran in another mode",
            outcome.name
        );
    }
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| o.failure.is_some())
        .map(|o| o.to_string())
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn first_chapters_run_without_error_panic_or_timeout() {
    let [first, _, _] = parts();
    run_in_check_mode(&first);
}

#[test]
fn later_chapters_run_without_error_panic_or_timeout() {
    let [_, later, _] = parts();
    run_in_check_mode(&later);
}

#[test]
fn closing_chapter_runs_on_every_chapters_results() {
    let [_, _, closing] = parts();
    run_in_check_mode(&closing);
}

#[test]
fn the_three_parts_hold_every_chapter_once() {
    let parts = parts();
    assert!(parts.iter().all(|part| !part.is_empty()), "{parts:?}");
    let mut all: Vec<PathBuf> = parts.concat();
    all.sort();
    assert_eq!(all, notebooks());
}
