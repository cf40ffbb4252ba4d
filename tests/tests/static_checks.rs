//! Every notebook is valid nbformat 4 for the `rust` kernel, without outputs, with the shared
//! setup cell; the lock files cover the notebooks; the documents name only paths that exist.

use notebook_tests::{hand_padding, notebooks, python, root, static_problems, SETUP_LINES};
use std::path::{Path, PathBuf};

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

/// A chapter ends on its headline results, then its lessons in prose: each section's "What this
/// shows" line has printed this run's numbers once, and a closing cell would print them again.
/// Chapter 13, whose closing cell draws lessons across the chapters, is the exception.
#[test]
fn chapters_end_on_their_headlines_not_on_numbers_printed_again() {
    for path in notebooks() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("13-") {
            continue;
        }
        let notebook: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cells = notebook["cells"].as_array().unwrap();
        let source = |cell: &serde_json::Value| match &cell["source"] {
            serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
            other => other.as_str().unwrap_or("").to_owned(),
        };
        let last_code = cells
            .iter()
            .rev()
            .find(|c| c["cell_type"] == "code")
            .unwrap();
        assert!(
            source(last_code).contains("Headline::new"),
            "{name}: the last code cell should record the headline results; the lessons after \
             them are prose"
        );
        let closing = source(cells.last().unwrap());
        assert!(
            cells.last().unwrap()["cell_type"] == "markdown"
                && closing.contains("## What the numbers teach"),
            "{name}: the chapter should end with its lessons, \"## What the numbers teach\""
        );
    }
}

#[test]
fn hand_padded_text_is_found_and_generics_are_not() {
    let padded = r#"println!("{name:<36} mass {mass:.9}");"#;
    assert_eq!(hand_padding(padded).as_deref(), Some("{name:<3"));
    assert_eq!(
        hand_padding(r#"format!("{:>10.3} s", t)"#).as_deref(),
        Some("{:>1")
    );
    assert_eq!(
        hand_padding("let v = Vec::<u8>::new(); let x = a.min(b);"),
        None
    );
    assert_eq!(hand_padding(r#"println!("{name}: {value:.2}")"#), None);
    let spaced = r#"println!("sort over sort_unstable:    {gain:.2}×");"#;
    assert_eq!(hand_padding(spaced).as_deref(), Some(":    {"));
    assert_eq!(
        hand_padding("fn f() {\n    if x {\n        y\n    }\n}"),
        None
    );
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

/// Setup builds chapter 08's extension as hpr's `build_extension`, which the chapter calls,
/// builds it (the same manifest, release profile, target folder and interpreter): otherwise the
/// chapter compiles pyo3 again while it measures.
#[test]
fn setup_builds_the_extension_where_chapter_08_looks_for_it() {
    let setup = std::fs::read_to_string(root().join("scripts/setup.sh")).unwrap();
    let hpr = std::fs::read_to_string(root().join("helpers/src/python/extension.rs")).unwrap();
    let chapter = notebooks()
        .into_iter()
        .find(|path| path.to_string_lossy().contains("08-"))
        .expect("chapter 08 exists");
    let chapter = std::fs::read_to_string(chapter).unwrap();
    assert!(
        chapter.contains(r#"build_extension(\"julia_ext\""#),
        "chapter 08 no longer builds its extension with hpr's build_extension"
    );
    for (what, in_setup, in_hpr) in [
        (
            "the target folder",
            "hpr/julia_ext-target",
            r#"format!("{name}-target")"#,
        ),
        (
            "the manifest",
            "--manifest-path extensions/julia_ext/Cargo.toml",
            r#"format!("extensions/{name}/Cargo.toml")"#,
        ),
        (
            "the profile",
            "maturin\" build --release",
            r#"["build", "--release", "--manifest-path"]"#,
        ),
        (
            "the interpreter",
            "helpers/../.venv/bin/python",
            "python_interpreter()",
        ),
    ] {
        assert!(
            setup.contains(in_setup),
            "scripts/setup.sh no longer names {what}: {in_setup}"
        );
        assert!(
            hpr.contains(in_hpr),
            "hpr's build_extension no longer names {what}: {in_hpr}"
        );
    }
}

/// Cargo.lock holds every crate of every notebook's `:dep` lines (through kernel/deps), no
/// notebook fixes a version itself, and python-lock.txt holds every package environment.yml pins:
/// kernel/lock.py checks it.
#[test]
fn the_lock_files_cover_the_notebooks_and_the_environment() {
    let output = lock_check(&[]);
    assert!(
        output.status.success(),
        "kernel/lock.py found problems:\n{}{}",
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
        .arg(root().join("kernel/lock.py"))
        .args(args)
        .output()
        .expect("runs kernel/lock.py")
}

/// Every path the reader's documents name exists: the relative target of each markdown link
/// (`[text](path)`, its `#anchor` dropped; web links and rustdoc's item links such as
/// `plot::LineChart` or `fn@machine` are not files) and each backticked path into the tree (one
/// that starts with a top-level folder, e.g. `harness/nbexec.py`; `*` matches within a name, and
/// a placeholder such as `<chapter>` ends the part that is checked). Folders the build makes
/// (`.gitignore`'s `/target`, `/build`) are not in the tree and are not checked.
#[test]
fn every_path_the_documents_name_exists() {
    let root = root();
    let mut documents: Vec<PathBuf> = [
        "README.md",
        "CONTRIBUTING.md",
        "helpers/README.md",
        "kernel/README.md",
    ]
    .iter()
    .map(|name| root.join(name))
    .collect();
    let docs = root.join("docs");
    if let Ok(entries) = std::fs::read_dir(&docs) {
        let mut pages: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
            .collect();
        pages.sort();
        documents.extend(pages);
    }
    let folders = tree_folders(&root);
    let mut missing = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", document.display()));
        let name = document.strip_prefix(&root).unwrap_or(document).display();
        let (links, spans) = links_and_code_spans(&text);
        let here = document.parent().expect("a document lies in a folder");
        for target in links.iter().filter_map(|link| file_target(link)) {
            if !here.join(target).exists() {
                missing.push(format!("{name}: link ({target})"));
            }
        }
        for path in spans.iter().filter_map(|span| tree_path(span, &folders)) {
            if !exists_matching(&root, path) {
                missing.push(format!("{name}: `{path}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths named in the documents that do not exist:\n{}",
        missing.join("\n")
    );
}

/// The top-level folders of the repository's tree: not hidden, not made by the build.
fn tree_folders(root: &Path) -> Vec<String> {
    let ignored = std::fs::read_to_string(root.join(".gitignore")).unwrap_or_default();
    let built: Vec<&str> = ignored
        .lines()
        .filter_map(|line| line.trim().strip_prefix('/'))
        .map(|line| line.trim_end_matches('/'))
        .filter(|line| !line.contains('/'))
        .collect();
    let mut folders: Vec<String> = std::fs::read_dir(root)
        .expect("the workspace root can be listed")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.') && !built.contains(&name.as_str()))
        .collect();
    folders.sort();
    folders
}

/// The targets of a document's markdown links and the contents of its inline code spans,
/// outside fenced code blocks. A code span may run over a line break.
fn links_and_code_spans(text: &str) -> (Vec<String>, Vec<String>) {
    let mut fenced = false;
    let prose: Vec<&str> = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                ""
            } else if fenced {
                ""
            } else {
                line
            }
        })
        .collect();
    let prose = prose.join("\n");
    let (mut links, mut spans) = (Vec::new(), Vec::new());
    let mut rest = prose.as_str();
    while !rest.is_empty() {
        let ticks = rest.len() - rest.trim_start_matches('`').len();
        if ticks > 0 {
            let fence = &rest[..ticks];
            let after = &rest[ticks..];
            match after.find(fence) {
                Some(end) => {
                    spans.push(after[..end].replace('\n', " ").trim().to_owned());
                    rest = &after[end + ticks..];
                }
                None => rest = after,
            }
            continue;
        }
        if let Some(after) = rest.strip_prefix("](") {
            if let Some(end) = after.find(')') {
                links.push(after[..end].to_owned());
            }
            rest = after;
            continue;
        }
        let next = rest.chars().next().map_or(1, char::len_utf8);
        rest = &rest[next..];
    }
    (links, spans)
}

/// The file a link's target names, relative to its document; `None` for a web link, an anchor
/// in the same page or a rustdoc item link (`plot::LineChart`, `fn@machine`).
fn file_target(link: &str) -> Option<&str> {
    let target = link.split_whitespace().next()?;
    let target = target.split('#').next()?;
    let web = ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| target.starts_with(scheme));
    (!target.is_empty() && !web && !target.contains("::") && !target.contains('@'))
        .then_some(target)
}

/// The repository path a code span names, when its first word starts with a top-level folder
/// and `/`: up to a placeholder (`<`, `{`, `$`, `…`) and without trailing punctuation.
fn tree_path<'a>(span: &'a str, folders: &[String]) -> Option<&'a str> {
    let word = span.split_whitespace().next()?;
    let (folder, _) = word.split_once('/')?;
    if !folders.iter().any(|f| f == folder) {
        return None;
    }
    let word = match word.find(['<', '{', '$', '…']) {
        Some(placeholder) => &word[..word[..placeholder].rfind('/')? + 1],
        None => word,
    };
    Some(word.trim_end_matches([',', '.', ':', ';', ')', '\'', '"']))
}

/// Whether `path` (relative to `root`) exists; a `*` in a name matches any run of characters.
fn exists_matching(root: &Path, path: &str) -> bool {
    let mut candidates = vec![root.to_path_buf()];
    for part in path.split('/').filter(|part| !part.is_empty()) {
        candidates = candidates
            .iter()
            .flat_map(|folder| -> Vec<PathBuf> {
                if !part.contains('*') {
                    let next = folder.join(part);
                    return if next.exists() { vec![next] } else { vec![] };
                }
                std::fs::read_dir(folder)
                    .map(|entries| {
                        entries
                            .filter_map(|entry| entry.ok())
                            .filter(|entry| wildcard(part, &entry.file_name().to_string_lossy()))
                            .map(|entry| entry.path())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
    }
    !candidates.is_empty()
}

/// Whether `name` matches `pattern`, in which `*` stands for any run of characters.
fn wildcard(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (index, part) in parts.iter().enumerate() {
        if index == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[test]
fn the_path_check_reads_links_spans_and_wildcards() {
    let text = "See [the guide](CONTRIBUTING.md#cells), [web](https://x.org), [`f`](fn@f), \
                `harness/nbexec.py`, `make run` and\n```\n`kernel/not-read`\n```\na `kernel/guard --flag\nvalue` span.";
    let (links, spans) = links_and_code_spans(text);
    let targets: Vec<_> = links.iter().filter_map(|l| file_target(l)).collect();
    assert_eq!(targets, ["CONTRIBUTING.md"]);
    let folders = ["harness".to_owned(), "kernel".to_owned()];
    let paths: Vec<_> = spans
        .iter()
        .filter_map(|s| tree_path(s, &folders))
        .collect();
    assert_eq!(paths, ["harness/nbexec.py", "kernel/guard"]);
    assert!(wildcard("*.patch", "1-library-roots.patch"));
    assert!(wildcard("03-*.ipynb", "03-vec-arrays-tuples.ipynb"));
    assert!(!wildcard("03-*.ipynb", "04-hashmap-hashset.ipynb"));
    assert!(exists_matching(&root(), "notebooks/03-*.ipynb"));
    assert!(!exists_matching(&root(), "notebooks/99-*.ipynb"));
}

/// `hpr`'s modules use each other without a cycle, so each can be read (and moved) after the
/// ones it uses. A use of a module's own parent (`super::Item` from `mod.rs`) is not counted.
#[test]
fn the_crate_modules_use_each_other_without_a_cycle() {
    let source = root().join("helpers/src");
    let mut modules = Vec::new();
    collect_modules(&source, &source, &mut modules);
    assert!(modules.len() > 20, "found only {} modules", modules.len());
    let cycles = module_cycles(&modules);
    assert!(cycles.is_empty(), "modules that use each other: {cycles:?}");
}

#[test]
fn the_cycle_check_finds_two_modules_that_use_each_other() {
    let module = |name: &str, text: &str| (name.to_owned(), text.to_owned());
    let modules = [
        module("measure", "mod timeit; mod timing;"),
        module("measure::timeit", "use super::timing::Timing;"),
        module("measure::timing", "use crate::measure::timeit::Plan;"),
        module("render", "use crate::measure::timing::Timing;"),
    ];
    assert_eq!(
        module_cycles(&modules),
        [vec![
            "measure::timeit".to_owned(),
            "measure::timing".to_owned()
        ]]
    );
    assert!(module_cycles(&modules[1..2]).is_empty());
}

/// Every `.rs` file under `dir` as (module path, text without its `#[cfg(test)] mod tests`).
fn collect_modules(source: &Path, dir: &Path, modules: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_modules(source, &path, modules);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(source).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            modules.push((parts.join("::"), code.to_owned()));
        }
    }
}

/// The groups of modules that reach each other through `crate::` and `super::` paths, each
/// sorted, in the order of their first module.
fn module_cycles(modules: &[(String, String)]) -> Vec<Vec<String>> {
    let names: Vec<&str> = modules.iter().map(|(name, _)| name.as_str()).collect();
    let uses: Vec<Vec<usize>> = modules
        .iter()
        .map(|(name, text)| {
            let mut targets: Vec<usize> = module_paths(text)
                .filter_map(|path| resolve_module(name, &path, &names))
                .filter(|&t| {
                    let target = names[t];
                    target != name
                        && !name.starts_with(&format!("{target}::"))
                        && !target.starts_with(&format!("{name}::"))
                })
                .collect();
            targets.sort_unstable();
            targets.dedup();
            targets
        })
        .collect();
    // Two modules are in one cycle when each reaches the other.
    let reach: Vec<Vec<bool>> = (0..names.len())
        .map(|start| {
            let mut seen = vec![false; names.len()];
            let mut todo = uses[start].clone();
            while let Some(next) = todo.pop() {
                if !std::mem::replace(&mut seen[next], true) {
                    todo.extend(&uses[next]);
                }
            }
            seen
        })
        .collect();
    let mut cycles: Vec<Vec<String>> = Vec::new();
    for (start, reached) in reach.iter().enumerate() {
        let mut group: Vec<String> = (0..names.len())
            .filter(|&other| reached[other] && reach[other][start])
            .map(|other| names[other].to_owned())
            .collect();
        group.sort();
        if group.len() > 1 && !cycles.contains(&group) {
            cycles.push(group);
        }
    }
    cycles
}

/// The paths in `text` that start at `crate::` or `super::`.
fn module_paths(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|path| path.starts_with("crate::") || path.starts_with("super::"))
        .map(str::to_owned)
}

/// The longest module among `names` that `path`, written in module `from`, names.
fn resolve_module(from: &str, path: &str, names: &[&str]) -> Option<usize> {
    let mut full: Vec<&str> = from.split("::").filter(|s| !s.is_empty()).collect();
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    if segments.peek() == Some(&"crate") {
        full.clear();
        segments.next();
    }
    while segments.peek() == Some(&"super") {
        full.pop();
        segments.next();
    }
    full.extend(segments);
    (1..=full.len())
        .rev()
        .find_map(|n| names.iter().position(|name| *name == full[..n].join("::")))
}
