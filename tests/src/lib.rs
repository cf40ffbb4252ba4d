//! The notebook test harness: static checks of every notebook, and execution through Jupyter.
//!
//! Execution goes through `harness/nbexec.py` (Jupyter's own client, nbclient), which classifies
//! every cell's outputs; this crate runs it, reads its JSON report and turns failures into test
//! failures that name the notebook, the cell and the reason.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The first code cell of every notebook starts with exactly these lines, so that every
/// notebook compiles `hpr` identically and evcxr's compile cache is shared between them. The
/// kernel's launcher switches that cache on (kernel/cell-cargo), not a `:cache` line.
pub const SETUP_LINES: &str = ":opt 3
:build_env CARGO_PROFILE_DEV_OVERFLOW_CHECKS=false
:build_env CARGO_PROFILE_DEV_DEBUG_ASSERTIONS=false
:dep hpr = { path = \"../helpers\" }
use hpr::prelude::*;
// Fails unless cells are compiled release-grade, so no chapter measures debug code.
hpr::ensure_release_profile()?;";

/// Most lines a code cell may hold: one idea per cell, readable without scrolling.
pub const MAX_CELL_LINES: usize = 30;

/// Widest line a code cell may hold, in characters.
pub const MAX_LINE_CHARS: usize = 100;

/// The cell tag that lifts both limits for one cell, for the rare cell that cannot be split
/// (e.g. a Python script passed as one string). Use it with a sentence in the notebook saying why.
pub const LONG_CELL_TAG: &str = "long-cell";

/// The notebook runner, from the workspace root.
pub const RUNNER: &str = "harness/nbexec.py";

/// The workspace root (the parent of this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate lives inside the workspace")
        .to_path_buf()
}

/// The notebooks of the book, sorted by name.
pub fn notebooks() -> Vec<PathBuf> {
    notebooks_in(&root().join("notebooks"))
}

/// The `.ipynb` files in `dir`, sorted by name.
pub fn notebooks_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "ipynb"))
        .collect();
    found.sort();
    found
}

/// Problems found in a notebook without running it; empty when it is fine.
pub fn static_problems(notebook: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if notebook["nbformat"] != 4 {
        problems.push(format!("nbformat is {}, not 4", notebook["nbformat"]));
    }
    if notebook["metadata"]["kernelspec"]["name"] != "rust" {
        problems.push("the kernelspec is not 'rust'".to_owned());
    }
    let Some(cells) = notebook["cells"].as_array() else {
        problems.push("there is no list of cells".to_owned());
        return problems;
    };
    let mut code_cells = 0;
    for (index, cell) in cells.iter().enumerate() {
        let kind = cell["cell_type"].as_str().unwrap_or("");
        if !["code", "markdown", "raw"].contains(&kind) {
            problems.push(format!("cell {index} has an unknown type {kind:?}"));
        }
        if kind != "code" {
            continue;
        }
        if code_cells == 0 && !source(cell).starts_with(SETUP_LINES) {
            problems.push(format!(
                "the first code cell (cell {index}) must start with the shared setup lines:\n{SETUP_LINES}"
            ));
        }
        code_cells += 1;
        if source(cell)
            .lines()
            .any(|l| l.trim_start().starts_with(":cache"))
        {
            problems.push(format!(
                "cell {index} sets `:cache`: the kernel's launcher keeps evcxr's compile cache on \
                 for cargo's runs, and `:cache` would make evcxr walk the whole cache after every \
                 cell (see docs/kernel.md)"
            ));
        }
        if ["temp_dir()", "\"/tmp"]
            .iter()
            .any(|p| source(cell).contains(p))
        {
            problems.push(format!(
                "cell {index} writes in the shared temporary directory: use `hpr::work_dir()`, \
                 the kernel's private folder, which goes with the kernel (see CONTRIBUTING)"
            ));
        }
        if let Some(padding) = hand_padding(&source(cell)) {
            problems.push(format!(
                "cell {index} pads text by hand (`{padding}`): show a table as an `hpr::Table`, \
                 and a list as lines that need no alignment"
            ));
        }
        problems.extend(size_problems(index, cell));
        if cell["outputs"].as_array().is_some_and(|o| !o.is_empty()) {
            problems.push(format!("cell {index} has committed outputs"));
        }
        if !cell["execution_count"].is_null() {
            problems.push(format!("cell {index} has an execution count"));
        }
    }
    if code_cells == 0 {
        problems.push("there are no code cells".to_owned());
    }
    problems
}

/// The first format width that aligns text into columns (`{name:<36}`, `{:>10.3}`), or run of
/// spaces that does (`"sorted:    {gain}"`), if any.
pub fn hand_padding(source: &str) -> Option<String> {
    // A run of spaces before `{` after text on the same line (indentation has none before it).
    let spaced = source.lines().find_map(|line| {
        let at = line.find("   {")?;
        let (from, _) = line[..at].trim_end().char_indices().last()?;
        Some(line[from..at + 4].to_owned())
    });
    spaced.or_else(|| {
        let chars: Vec<char> = source.chars().collect();
        (1..chars.len().saturating_sub(2)).find_map(|i| {
            let aligned = chars[i] == ':'
                && chars[i - 1] != ':'
                && matches!(chars[i + 1], '<' | '>' | '^')
                && chars[i + 2].is_ascii_digit();
            aligned.then(|| {
                let start = chars[..i].iter().rposition(|&c| c == '{').unwrap_or(i);
                chars[start..(i + 3).min(chars.len())].iter().collect()
            })
        })
    })
}

/// A code cell longer than [`MAX_CELL_LINES`] or wider than [`MAX_LINE_CHARS`], unless tagged
/// [`LONG_CELL_TAG`].
fn size_problems(index: usize, cell: &Value) -> Vec<String> {
    let tags = cell["metadata"]["tags"].as_array();
    if tags.is_some_and(|tags| tags.iter().any(|t| t == LONG_CELL_TAG)) {
        return Vec::new();
    }
    let text = source(cell);
    let mut problems = Vec::new();
    let lines = text.lines().count();
    if lines > MAX_CELL_LINES {
        problems.push(format!(
            "cell {index} has {lines} lines (at most {MAX_CELL_LINES}: one idea per cell; split \
             it, or tag it `{LONG_CELL_TAG}` where it cannot be split)"
        ));
    }
    for (number, line) in text.lines().enumerate() {
        let width = line.chars().count();
        if width > MAX_LINE_CHARS {
            problems.push(format!(
                "cell {index}, line {}: {width} characters (at most {MAX_LINE_CHARS})",
                number + 1
            ));
        }
    }
    problems
}

/// A cell's source, whether stored as one string or a list of lines.
pub fn source(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(text) => text.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// How one notebook's execution ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The notebook's file name without extension.
    pub name: String,
    /// Code cells that ran.
    pub cells_run: usize,
    /// Seconds for the whole notebook.
    pub seconds: f64,
    /// `full`, or `check` when `HPR_MODE=check` ran every measurement at its smallest settings.
    pub mode: String,
    /// `None` when every cell passed.
    pub failure: Option<Failure>,
    /// Timing claims (`hpr::claim`) that this run's numbers did not show: reported, not failed.
    pub claims_not_seen: Vec<String>,
    /// The measured "What this shows: ..." sentences, without the prefix: the gallery's
    /// headlines.
    pub headlines: Vec<String>,
}

/// The first failing cell of a notebook.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Index of the cell in the notebook (code and markdown counted), if a cell failed.
    pub cell: Option<u64>,
    /// Why it failed, as `harness/nbexec.py` names it: `compile_error`, `panic`, `timeout`, …
    /// (docs/harness.md lists every reason).
    pub reason: String,
    /// What the cell printed or why it stopped.
    pub message: String,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.failure {
            None => {
                write!(
                    f,
                    "{}: ok ({} cells, {:.0} s)",
                    self.name, self.cells_run, self.seconds
                )?;
                for line in &self.claims_not_seen {
                    write!(f, "\n  {line}")?;
                }
                Ok(())
            }
            Some(failure) => write!(
                f,
                "{}: {} in cell {}:\n{}",
                self.name,
                failure.reason,
                failure
                    .cell
                    .map_or_else(|| "-".to_owned(), |c| c.to_string()),
                failure.message
            ),
        }
    }
}

/// Runs `script` in the project's Python (see [`python`]) from the repository root and parses
/// the one JSON value it prints; panics with its output when it fails.
pub fn python_json(script: &str) -> Value {
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(python)
        .args(["-c", script])
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

/// The interpreter of the project's `.venv` (or `$HPR_PYTHON`), with a clear error if missing.
pub fn python() -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("HPR_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    let venv = root().join(".venv/bin/python");
    if venv.exists() {
        Ok(venv)
    } else {
        Err(format!(
            "{} is missing: run `make setup` (or `make test`) first to create the Python \
             environment and register the evcxr kernel",
            venv.display()
        ))
    }
}

/// Executes `notebooks` in one runner process (one at a time), returning one outcome each.
pub fn execute(notebooks: &[PathBuf], cell_timeout_seconds: u32) -> Result<Vec<Outcome>, String> {
    execute_with_env(notebooks, cell_timeout_seconds, &[])
}

/// [`execute`] with extra environment variables for the runner and its kernels.
pub fn execute_with_env(
    notebooks: &[PathBuf],
    cell_timeout_seconds: u32,
    env: &[(&str, &str)],
) -> Result<Vec<Outcome>, String> {
    let python = python()?;
    let root = root();
    let report_dir = root.join("target/notebook-reports");
    std::fs::create_dir_all(&report_dir)
        .map_err(|e| format!("creating {}: {e}", report_dir.display()))?;
    // One report per call: tests of one binary run at the same time, in the same process.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let report = report_dir.join(format!("report-{}-{call}.json", std::process::id()));
    // Results are kept, as `make run` keeps them in build/results, so that chapter 13 (which
    // reads every chapter's) runs in the tests too.
    let status = jupyter_script(&python, RUNNER)
        .arg("--report")
        .arg(&report)
        .arg("--results")
        .arg(report_dir.join("results"))
        .arg("--logs")
        .arg(report_dir.join("kernel-logs"))
        .arg("--cell-timeout")
        .arg(cell_timeout_seconds.to_string())
        .args(notebooks)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("could not start {}: {e}", python.display()))?;
    let text = std::fs::read_to_string(&report).map_err(|e| {
        format!(
            "the runner exited with {status} and wrote no report {}: {e}",
            report.display()
        )
    })?;
    let _ = std::fs::remove_file(&report);
    parse_report(&text)
}

/// A command running `script` (a path from the workspace root, e.g. [`RUNNER`]) in the project's
/// Python, with the project's `rust` kernel first on Jupyter's path and evcxr on `PATH`.
pub fn jupyter_script(python: &Path, script: &str) -> Command {
    let root = root();
    let jupyter_path = match std::env::var("JUPYTER_PATH") {
        Ok(existing) if !existing.is_empty() => {
            format!("{}/.venv/share/jupyter:{existing}", root.display())
        }
        _ => format!("{}/.venv/share/jupyter", root.display()),
    };
    let mut command = Command::new(python);
    command
        .arg(root.join(script))
        .env("JUPYTER_PATH", jupyter_path)
        .env("PATH", path_with_cargo_bin())
        .current_dir(&root);
    command
}

/// Runs `kernel/checks/interrupt_check.py` and returns its JSON report: what interrupting a
/// running cell does to the kernel.
pub fn interrupt_check() -> Result<Value, String> {
    kernel_check("kernel/checks/interrupt_check.py", "interrupt.kernel.log")
}

/// Runs `kernel/checks/analysis_check.py` and returns its JSON report: completions and a kept
/// variable right after the shared setup cell, while evcxr still analyses hpr's crates in the
/// background.
pub fn analysis_check() -> Result<Value, String> {
    kernel_check("kernel/checks/analysis_check.py", "analysis.kernel.log")
}

/// Runs `kernel/checks/processes_check.py` and returns its JSON report: which processes and files
/// of a kernel are left after an interrupt, a kill of evcxr_jupyter, of the kernel's process
/// group, and of the process that started it, and after a kernel without a build-folder slot.
pub fn processes_check() -> Result<Value, String> {
    kernel_check("kernel/checks/processes_check.py", "processes.kernel.log")
}

/// Runs `kernel/checks/written_types_check.py` and returns its JSON report: cells with `_` in a
/// written type, then a struct redefined while variables of it are kept, each part in a kernel of
/// its own.
pub fn written_types_check() -> Result<Value, String> {
    kernel_check(
        "kernel/checks/written_types_check.py",
        "written-types.kernel.log",
    )
}

/// Runs `script` (a path from the workspace root), which drives one kernel and prints a JSON
/// report; the kernel's output goes to `log` under target/notebook-reports/kernel-logs.
fn kernel_check(script: &str, log: &str) -> Result<Value, String> {
    let python = python()?;
    let log_dir = root().join("target/notebook-reports/kernel-logs");
    std::fs::create_dir_all(&log_dir)
        .map_err(|e| format!("creating {}: {e}", log_dir.display()))?;
    let output = jupyter_script(&python, script)
        .arg(log_dir.join(log))
        .output()
        .map_err(|e| format!("could not start {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{script} failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_str(stdout.trim()).map_err(|e| format!("unreadable report {stdout:?}: {e}"))
}

/// Runs `harness/browser_check.py`: opens `notebook` in JupyterLab in headless Chromium, runs all
/// its cells, and returns the JSON report (status, rendered tables and plots, problems).
pub fn browser_check(notebook: &Path, screenshot: &Path) -> Result<Value, String> {
    let python = python()?;
    let output = jupyter_script(&python, "harness/browser_check.py")
        .arg(notebook)
        .arg("--screenshot")
        .arg(screenshot)
        .output()
        .map_err(|e| format!("could not start {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last_line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last_line).map_err(|e| {
        format!(
            "harness/browser_check.py gave no report ({}, {e}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Reads the runner's JSON report.
pub fn parse_report(text: &str) -> Result<Vec<Outcome>, String> {
    let reports: Value =
        serde_json::from_str(text).map_err(|e| format!("unreadable report: {e}"))?;
    let reports = reports.as_array().ok_or("the report is not a list")?;
    Ok(reports
        .iter()
        .map(|r| Outcome {
            name: r["name"].as_str().unwrap_or("?").to_owned(),
            cells_run: r["cells"].as_array().map_or(0, Vec::len),
            seconds: r["seconds"].as_f64().unwrap_or(0.0),
            mode: r["mode"].as_str().unwrap_or("?").to_owned(),
            failure: r["failure"].as_object().map(|f| Failure {
                cell: f.get("cell").and_then(Value::as_u64),
                reason: f
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                message: f
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            }),
            claims_not_seen: texts(&r["claims_not_seen"]),
            headlines: texts(&r["headlines"]),
        })
        .collect())
}

/// The `text` fields of a report's list of `{cell, text}` entries.
fn texts(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["text"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Fails the calling test unless setup has built `hpr-cell-cargo`, the cargo the kernel's
/// launcher gives evcxr (without it a kernel neither replays cells nor builds from the lock file).
pub fn assert_cell_cargo_is_built() {
    let cell_cargo = root().join("target/release/hpr-cell-cargo");
    assert!(
        cell_cargo.exists(),
        "{} is missing: setup builds it (cargo build --release -p hpr-cell-cargo)",
        cell_cargo.display()
    );
}

/// `PATH` with `~/.cargo/bin` first, where rustup and `cargo install` put evcxr and cargo.
pub fn path_with_cargo_bin() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    match std::env::var("HOME") {
        Ok(home) => format!("{home}/.cargo/bin:{path}"),
        Err(_) => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notebook(first_cell: &str) -> Value {
        json!({
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "rust", "display_name": "Rust", "language": "rust"}},
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
                {"cell_type": "code", "metadata": {}, "source": first_cell, "outputs": [], "execution_count": null}
            ]
        })
    }

    #[test]
    fn a_clean_notebook_passes() {
        assert_eq!(
            static_problems(&notebook(SETUP_LINES)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn finds_each_static_problem() {
        let mut nb = notebook(
            ":cache 4096\n:dep hpr = { path = \"../helpers\" }\nlet f = std::env::temp_dir();",
        );
        nb["metadata"]["kernelspec"]["name"] = json!("python3");
        nb["cells"][1]["outputs"] =
            json!([{"output_type": "stream", "name": "stdout", "text": "x"}]);
        nb["cells"][1]["execution_count"] = json!(3);
        let problems = static_problems(&nb).join("\n");
        assert!(problems.contains("kernelspec"), "{problems}");
        assert!(problems.contains("shared setup lines"), "{problems}");
        assert!(problems.contains("committed outputs"), "{problems}");
        assert!(problems.contains("execution count"), "{problems}");
        assert!(problems.contains("sets `:cache`"), "{problems}");
        assert!(problems.contains("use `hpr::work_dir()`"), "{problems}");
    }

    #[test]
    fn long_and_wide_cells_are_found_unless_tagged() {
        let long = format!("{SETUP_LINES}\n{}", "let x = 1;\n".repeat(MAX_CELL_LINES));
        let problems = static_problems(&notebook(&long)).join("\n");
        assert!(problems.contains("lines (at most 30"), "{problems}");
        let wide = format!("{SETUP_LINES}\n// {}", "x".repeat(MAX_LINE_CHARS));
        let problems = static_problems(&notebook(&wide)).join("\n");
        assert!(problems.contains("characters (at most 100)"), "{problems}");
        let mut tagged = notebook(&long);
        tagged["cells"][1]["metadata"]["tags"] = json!([LONG_CELL_TAG]);
        assert!(static_problems(&tagged).is_empty());
    }

    #[test]
    fn the_runner_knows_every_type_hpr_renders() {
        let runner = std::fs::read_to_string(root().join(RUNNER)).unwrap();
        // A list may run over several lines (ruff format writes one item a line).
        let listed = |name: &str| -> Vec<String> {
            let start = runner
                .find(&format!("\n{name} = ["))
                .unwrap_or_else(|| panic!("harness/nbexec.py has no `{name} = [...]` list"));
            let list = &runner[start..];
            let list = &list[..list.find(']').expect("the list ends")];
            list.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(
            listed("HPR_RENDERED_TYPES"),
            hpr::RENDERED_TYPES,
            "harness/nbexec.py's HPR_RENDERED_TYPES and hpr::RENDERED_TYPES disagree"
        );
        assert_eq!(
            listed("HPR_ERROR_VARIANTS"),
            hpr::HprError::VARIANT_NAMES,
            "harness/nbexec.py's HPR_ERROR_VARIANTS and hpr::HprError::VARIANT_NAMES disagree"
        );
    }

    #[test]
    fn the_runner_looks_for_hprs_claim_marker() {
        let runner = std::fs::read_to_string(root().join(RUNNER)).unwrap();
        assert!(
            runner.contains(&format!("CLAIM_NOT_SEEN = \"{}\"", hpr::CLAIM_NOT_SEEN)),
            "harness/nbexec.py and hpr::CLAIM_NOT_SEEN disagree"
        );
    }

    #[test]
    fn the_runner_and_hpr_name_the_same_results_variables() {
        let runner = std::fs::read_to_string(root().join(RUNNER)).unwrap();
        for (name, value) in [
            ("RESULTS_FILE_ENV", hpr::RESULTS_FILE_ENV),
            ("RESULTS_DIR_ENV", hpr::RESULTS_DIR_ENV),
        ] {
            assert!(
                runner.contains(&format!("{name} = \"{value}\"")),
                "harness/nbexec.py's {name} and hpr::{name} disagree"
            );
        }
    }

    #[test]
    fn reads_sources_stored_as_lines() {
        let cell = json!({"source": ["a\n", "b"]});
        assert_eq!(source(&cell), "a\nb");
    }

    #[test]
    fn parses_a_runner_report() {
        let text = r#"[{"name": "x", "cells": [{}, {}], "seconds": 3.5,
            "failure": {"cell": 4, "reason": "panic", "message": "boom"}},
            {"name": "y", "cells": [], "seconds": 1, "failure": null,
             "claims_not_seen": [{"cell": 2, "text": "✘ not seen on this run: 2 cores win"}]}]"#;
        let outcomes = parse_report(text).unwrap();
        assert_eq!(outcomes[0].failure.as_ref().unwrap().reason, "panic");
        assert_eq!(outcomes[0].cells_run, 2);
        assert!(outcomes[0].claims_not_seen.is_empty());
        assert!(outcomes[1].failure.is_none());
        assert!(outcomes[0].to_string().contains("panic in cell 4"));
        assert_eq!(
            outcomes[1].claims_not_seen,
            ["✘ not seen on this run: 2 cores win"]
        );
        assert!(outcomes[1].to_string().contains("2 cores win"));
    }
}
