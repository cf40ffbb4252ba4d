//! Everything besides the cell's source that could make cargo do something else, as lines of text:
//! two equal snapshots mean cargo would only recompile the cell crate.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Beyond this many files in path dependencies, walking them would cost what cargo costs: the
/// walk stops there and cargo runs.
const MOST_FILES: usize = 20_000;

/// The snapshot for a `cargo ARGS` run in `folder`, or `None` when one cannot be taken (a path
/// that is not UTF-8, too many files): then cargo runs every time. With the kernels' lock file
/// (`lock`), which is written over the folder's before cargo runs, that file stands for the
/// folder's.
pub fn take(folder: &Path, args: &[OsString], lock: Option<&Path>) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    for arg in args {
        lines.push(format!("arg {}", arg.to_str()?));
    }
    lines.extend(environment()?.iter().map(|(k, v)| format!("env {k}={v}")));
    for file in cargo_configuration(folder, lock) {
        lines.push(format!(
            "content {} {}",
            file.to_str()?,
            content_digest(&file)
        ));
    }
    for program in ["RUSTC", crate::REAL_CARGO_ENV] {
        if let Some(path) = std::env::var_os(program) {
            lines.push(format!("program {}", stamp(Path::new(&path))?));
        }
    }
    for (dependency, files_in_it) in path_dependencies(&folder.join("Cargo.toml"), MOST_FILES)? {
        lines.push(format!("dependency {}", dependency.to_str()?));
        for file in files_in_it {
            lines.push(format!("file {}", stamp(&file)?));
        }
    }
    Some(lines)
}

/// This process's environment by name, or `None` if a name or value is not UTF-8 (then nothing is
/// replayed: a replay could not give rustc that variable).
pub fn environment() -> Option<BTreeMap<String, String>> {
    std::env::vars_os()
        .map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The snapshot less its line for the lock file, which cargo itself writes.
pub fn without_lock(lines: &[String], folder: &Path) -> Vec<String> {
    let lock = format!("content {}", folder.join("Cargo.lock").display());
    lines
        .iter()
        .filter(|l| !l.starts_with(&lock))
        .cloned()
        .collect()
}

/// `path mtime length`, or `path absent`; `None` for a path that is not UTF-8.
pub fn stamp(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    Some(match std::fs::metadata(path) {
        Ok(meta) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{text} {modified} {}", meta.len())
        }
        Err(_) => format!("{text} absent"),
    })
}

/// The cell crate's manifest and lock file (or the kernels'), and every configuration file cargo
/// reads there.
fn cargo_configuration(folder: &Path, lock: Option<&Path>) -> Vec<PathBuf> {
    let lock = lock.map_or_else(|| folder.join("Cargo.lock"), Path::to_path_buf);
    let mut files = vec![folder.join("Cargo.toml"), lock];
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let dot_cargo = folder.ancestors().map(|dir| dir.join(".cargo"));
    for dir in dot_cargo.chain(home) {
        files.push(dir.join("config.toml"));
        files.push(dir.join("config"));
    }
    files
}

/// The file's contents digested, or `absent`.
fn content_digest(file: &Path) -> String {
    match std::fs::read(file) {
        Ok(bytes) => {
            let mut hasher = DefaultHasher::new();
            hasher.write(&bytes);
            format!("{:016x} {}", hasher.finish(), bytes.len())
        }
        Err(_) => "absent".to_owned(),
    }
}

/// Every folder a `path = "…"` in a dependency or patch names, from this manifest and,
/// transitively, from the manifests inside those folders; each with the files `walk` finds in
/// it, walked once. `None` once more than `most_files` files were found, without walking further.
fn path_dependencies(
    manifest: &Path,
    most_files: usize,
) -> Option<BTreeMap<PathBuf, Vec<PathBuf>>> {
    let mut found = BTreeMap::new();
    let mut budget = most_files;
    let mut queue = VecDeque::from([manifest.to_path_buf()]);
    while let Some(manifest) = queue.pop_front() {
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let base = manifest.parent().unwrap_or(Path::new("."));
        for named in dependency_paths(&text) {
            let folder = base.join(named);
            let folder = folder.canonicalize().unwrap_or(folder);
            if let Entry::Vacant(entry) = found.entry(folder) {
                let files = walk(entry.key(), &mut budget)?;
                queue.extend(files.iter().filter(|f| f.ends_with("Cargo.toml")).cloned());
                entry.insert(files);
            }
        }
    }
    Some(found)
}

/// The `path = "…"` values of a manifest, except those of the package's own targets (`[lib]`,
/// `[[bin]]`, …), which name its sources.
fn dependency_paths(manifest: &str) -> Vec<String> {
    let mut section = String::new();
    let mut paths = Vec::new();
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).trim().to_owned();
            continue;
        }
        let own_target = [
            "lib",
            "bin",
            "test",
            "bench",
            "example",
            "package",
            "workspace",
        ]
        .contains(&section.as_str());
        if own_target && !line.contains('{') {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("path") {
            let before = rest[..at].chars().last();
            let after = rest[at + 4..].trim_start();
            rest = &rest[at + 4..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                continue;
            }
            let Some(value) = after.strip_prefix('=').map(str::trim_start) else {
                continue;
            };
            if let Some(quoted) = value.strip_prefix('"') {
                if let Some(end) = quoted.find('"') {
                    paths.push(quoted[..end].to_owned());
                }
            }
        }
    }
    paths
}

/// The files under `root` (or `root` itself when it is a file), skipping `target` and hidden
/// folders, in a stable order, with `budget` reduced by their number; `None`, without walking
/// further, as soon as it has found more than `budget`.
fn walk(root: &Path, budget: &mut usize) -> Option<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    if root.is_file() {
        files.push(root.to_path_buf());
        folders.clear();
    }
    while let Some(folder) = folders.pop() {
        // The folder itself: a file added or removed changes its mtime.
        files.push(folder.clone());
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let hidden = name.to_string_lossy().starts_with('.');
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => {
                    if !hidden && name != "target" {
                        folders.push(entry.path());
                    }
                }
                Ok(_) => files.push(entry.path()),
                Err(_) => {}
            }
        }
        if files.len() > *budget {
            return None;
        }
    }
    *budget -= files.len();
    Some(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_dependency_paths_but_not_the_packages_own_sources() {
        let manifest = r#"
[package]
name = "ctx"
[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"
[dependencies]
hpr = { path = "/work/helpers" }
pins = { path = "../pins", features = ["polars"] } # a comment with path = "nowhere"
polars = { version = "=0.55.2", default-features = false }
[dependencies.tiny]
path = "tiny"
[patch.crates-io]
serde = { git = "x", classpath = "no", path = "vendored/serde" }
"#;
        assert_eq!(
            dependency_paths(manifest),
            ["/work/helpers", "../pins", "tiny", "vendored/serde"]
        );
    }

    #[test]
    fn a_change_to_a_path_dependency_changes_the_snapshot() {
        let root = std::env::temp_dir().join(format!("hpr-cell-cargo-{}", std::process::id()));
        let tiny = root.join("tiny");
        std::fs::create_dir_all(tiny.join("src")).unwrap();
        std::fs::create_dir_all(root.join("cell")).unwrap();
        std::fs::write(tiny.join("Cargo.toml"), "[package]\nname = \"tiny\"\n").unwrap();
        std::fs::write(tiny.join("src/lib.rs"), "pub fn value() -> u8 { 1 }").unwrap();
        let cell = root.join("cell");
        let manifest = "[package]\nname = \"ctx\"\n[dependencies]\ntiny = { path = \"../tiny\" }\n";
        std::fs::write(cell.join("Cargo.toml"), manifest).unwrap();
        let before = take(&cell, &["build".into()], None).unwrap();
        assert_eq!(take(&cell, &["build".into()], None).unwrap(), before);
        assert!(
            before.iter().any(|l| l.contains("tiny/src/lib.rs")),
            "{before:?}"
        );

        std::fs::write(tiny.join("src/lib.rs"), "pub fn value() -> u8 { 22 }").unwrap();
        assert_ne!(take(&cell, &["build".into()], None).unwrap(), before);
        let after_edit = take(&cell, &["build".into()], None).unwrap();
        std::fs::write(tiny.join("src/more.rs"), "").unwrap();
        assert_ne!(take(&cell, &["build".into()], None).unwrap(), after_edit);
        assert_ne!(
            take(&cell, &["build".into(), "-v".into()], None).unwrap(),
            after_edit
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_walk_stops_past_its_budget() {
        let root = std::env::temp_dir().join(format!("hpr-cell-cargo-walk-{}", std::process::id()));
        let many = root.join("many");
        std::fs::create_dir_all(many.join("src")).unwrap();
        for n in 0..10 {
            std::fs::write(many.join(format!("src/f{n}.rs")), "").unwrap();
        }
        std::fs::write(
            root.join("Cargo.toml"),
            "[dependencies]\nmany = { path = \"many\" }\n",
        )
        .unwrap();
        let manifest = root.join("Cargo.toml");
        // The folder, src/ and its ten files.
        let walked = path_dependencies(&manifest, 12).expect("12 files fit");
        assert_eq!(walked.values().map(Vec::len).sum::<usize>(), 12);
        assert!(path_dependencies(&manifest, 11).is_none());
        let mut budget = 5;
        assert!(walk(&many, &mut budget).is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
