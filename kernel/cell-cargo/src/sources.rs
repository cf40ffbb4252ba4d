//! The files cargo checks before it reuses a unit of a path package, read from cargo's own records
//! of its last run: the dep-info file rustc wrote for each unit (every source file it read, from
//! wherever: `include_str!`, `#[path]` modules, hidden or `target` folders, symbolic links),
//! and each build script's `rerun-if-changed` paths (or, without any, its whole package). Files
//! of packages from a registry or git are not: cargo rebuilds those only when the lock file or
//! the configuration changes, which the snapshot holds.

use crate::snapshot::{self, walk, MOST_FILES};
use crate::CELL_CRATE;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What cargo's JSON messages said about the units of path packages (the cell crate's library
/// left out: its source is the cell).
#[derive(Default)]
pub struct Units {
    /// `compiler-artifact` messages: the package's manifest and the unit's outputs.
    artifacts: Vec<Value>,
    /// `build-script-executed` messages: where the build script's output lies.
    scripts: Vec<Value>,
}

/// The files cargo checks for the units of a run, and the folders where build scripts wrote
/// during it (their files are cargo's own output, not sources that changed meanwhile).
pub struct Tracked {
    pub files: BTreeSet<PathBuf>,
    generated: Vec<PathBuf>,
}

impl Units {
    /// Keeps `message` if it is about a unit of a path package.
    pub fn note(&mut self, message: &Value) {
        let id = message["package_id"].as_str().unwrap_or("");
        // `path+file:///…#0.1.0`, or before cargo 1.77 `tiny 0.1.0 (path+file:///…)`.
        if !id.starts_with("path+file://") && !id.contains("(path+file://") {
            return;
        }
        let target = &message["target"];
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                let is_script = target["kind"] == serde_json::json!(["custom-build"]);
                if target["name"] != CELL_CRATE || is_script {
                    self.artifacts.push(message.clone());
                }
            }
            Some("build-script-executed") => self.scripts.push(message.clone()),
            _ => {}
        }
    }

    /// Every file cargo will check before it reuses these units, each as rustc or the build script
    /// named it (relative names start from `folder`, where cargo runs rustc for members of the
    /// cell crate's workspace); `Err` with the reason when cargo's records cannot tell (then the
    /// next cell runs cargo).
    pub fn tracked(&self, folder: &Path) -> Result<Tracked, String> {
        let mut files = BTreeSet::new();
        let mut roots = BTreeMap::new();
        for artifact in &self.artifacts {
            let manifest = artifact["manifest_path"]
                .as_str()
                .ok_or("an artifact without its manifest")?;
            let root = Path::new(manifest)
                .parent()
                .ok_or("a manifest without folder")?;
            roots.insert(artifact["package_id"].as_str(), root.to_path_buf());
            files.insert(PathBuf::from(manifest));
            let outputs = artifact["filenames"].as_array().into_iter().flatten();
            let mut dep_infos: Vec<PathBuf> = outputs
                .filter_map(Value::as_str)
                .filter_map(|output| dep_info_of(Path::new(output)))
                .collect();
            dep_infos.dedup();
            if dep_infos.is_empty() {
                return Err(format!("no dep-info file for a unit of {manifest}"));
            }
            for dep_info in dep_infos {
                let text = std::fs::read_to_string(&dep_info)
                    .map_err(|e| format!("cannot read {}: {e}", dep_info.display()))?;
                files.extend(dependencies(&text).into_iter().map(|f| folder.join(f)));
            }
        }
        let mut budget = MOST_FILES;
        let mut generated = Vec::new();
        for script in &self.scripts {
            let root = roots
                .get(&script["package_id"].as_str())
                .ok_or("a build script run without its package's artifact")?;
            let out_dir = Path::new(script["out_dir"].as_str().ok_or("no out_dir")?);
            let unit = out_dir.parent().ok_or("an out_dir without folder")?;
            generated.push(unit.to_path_buf());
            let output = unit.join("output");
            let text = std::fs::read_to_string(&output)
                .map_err(|e| format!("cannot read {}: {e}", output.display()))?;
            let watched = rerun_if_changed(&text);
            if watched.is_empty() {
                // cargo then reruns the script when any file of its package changes: it lists
                // them all but the package's own `target` folder and packages inside it.
                let skip = |folder: &Path, at_top: bool| {
                    folder.ends_with(".git")
                        || (at_top && folder.ends_with("target"))
                        || folder.join("Cargo.toml").exists()
                };
                files.extend(walk(root, &skip, &mut budget).ok_or("too many files")?);
            }
            for path in watched {
                let path = root.join(path);
                if !path.exists() {
                    // cargo reruns the script every time.
                    return Err(format!("a build script watches {}, absent", path.display()));
                }
                files.extend(walk(&path, &|_, _| false, &mut budget).ok_or("too many files")?);
            }
        }
        Ok(Tracked { files, generated })
    }
}

impl Tracked {
    /// `Err` naming a file that changed at or after `start` (when cargo started): cargo may have
    /// read it before the change, and finds the unit stale next time.
    pub fn unchanged_since(&self, start: SystemTime) -> Result<(), String> {
        for file in &self.files {
            if self.generated.iter().any(|g| file.starts_with(g)) {
                continue;
            }
            let modified = std::fs::metadata(file).and_then(|m| m.modified());
            match modified {
                Ok(time) if time < start => {}
                Ok(_) => return Err(format!("{} changed while cargo ran", file.display())),
                Err(_) => return Err(format!("{} is gone", file.display())),
            }
        }
        Ok(())
    }
}

/// A `file STAMP` line for each file: what the recording keeps and each replay compares.
pub fn stamps<'a>(files: impl IntoIterator<Item = &'a String>) -> Option<Vec<String>> {
    files
        .into_iter()
        .map(|f| Some(format!("file {}", snapshot::stamp(Path::new(f))?)))
        .collect()
}

/// The dep-info file rustc wrote beside one of a unit's outputs: `deps/libtiny-HASH.rlib` has
/// `deps/tiny-HASH.d`; a build script, `build/tiny-HASH/build-script-build`, has
/// `build/tiny-HASH/build_script_build-HASH.d`. `None` when there is none.
fn dep_info_of(output: &Path) -> Option<PathBuf> {
    let folder = output.parent()?;
    let name = output.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    let hash = folder.file_name()?.to_str()?.rsplit('-').next()?;
    let candidates = [
        format!("{}.d", stem.strip_prefix("lib").unwrap_or(stem)),
        format!("{stem}.d"),
        format!("{}-{hash}.d", stem.replace('-', "_")),
    ];
    candidates
        .iter()
        .map(|c| folder.join(c))
        .find(|path| path.is_file())
}

/// The files a dep-info file (make's syntax, as rustc writes it) names as dependencies.
fn dependencies(dep_info: &str) -> Vec<String> {
    let mut found = BTreeSet::new();
    for line in dep_info.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (left, right) = split_rule(line);
        let names = if right.trim().is_empty() {
            // `path:`, rustc's empty rule for each dependency.
            vec![left.replace("\\ ", " ")]
        } else {
            words(right)
        };
        found.extend(names.into_iter().filter(|n| !n.is_empty()));
    }
    found.into_iter().collect()
}

/// A rule's target and its dependencies: the line split at its first `: ` (or final `:`).
fn split_rule(line: &str) -> (&str, &str) {
    if let Some(at) = line.find(": ") {
        return (&line[..at], &line[at + 2..]);
    }
    (line.strip_suffix(':').unwrap_or(line), "")
}

/// Space-separated names, `\ ` being a space inside a name.
fn words(text: &str) -> Vec<String> {
    let mut words = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                words.last_mut().expect("one word").push(' ');
                chars.next();
            }
            ' ' => words.push(String::new()),
            c => words.last_mut().expect("one word").push(c),
        }
    }
    words.retain(|w| !w.is_empty());
    words
}

/// The paths a build script's output watches: `cargo:rerun-if-changed=PATH` (or `cargo::…`).
fn rerun_if_changed(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line
                .strip_prefix("cargo::")
                .or(line.strip_prefix("cargo:"))?;
            rest.strip_prefix("rerun-if-changed=")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rustcs_dep_info() {
        let text = "/t/deps/tiny-1.d: /a/tiny/src/lib.rs /a/tiny/src/../x /a/my\\ dir/y.rs\n\n\
                    /t/deps/libtiny-1.rlib: /a/tiny/src/lib.rs /a/tiny/src/../x\n\n\
                    /a/tiny/src/lib.rs:\n/a/tiny/src/../x:\n/a/my\\ dir/y.rs:\n\n\
                    # env-dep:TINY=1\n";
        let found = dependencies(text);
        assert_eq!(
            found,
            ["/a/my dir/y.rs", "/a/tiny/src/../x", "/a/tiny/src/lib.rs"]
        );
    }

    #[test]
    fn reads_rerun_if_changed_in_both_spellings() {
        let output = "cargo:rustc-env=A=1\ncargo:rerun-if-changed=build.rs\n\
                      cargo::rerun-if-changed=../z\ncargo:rerun-if-env-changed=B\n";
        assert_eq!(rerun_if_changed(output), ["build.rs", "../z"]);
    }

    #[test]
    fn finds_the_dep_info_beside_each_kind_of_output() {
        let root = std::env::temp_dir().join(format!("hpr-cell-cargo-d-{}", std::process::id()));
        let deps = root.join("deps");
        let script = root.join("build/tiny-0a1b");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::create_dir_all(&script).unwrap();
        for file in [
            "deps/tiny-9f.d",
            "deps/pm-77.d",
            "build/tiny-0a1b/build_script_build-0a1b.d",
        ] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let of = |output: &str| dep_info_of(&root.join(output));
        assert_eq!(of("deps/libtiny-9f.rlib"), Some(deps.join("tiny-9f.d")));
        assert_eq!(of("deps/libtiny-9f.rmeta"), Some(deps.join("tiny-9f.d")));
        assert_eq!(of("deps/libpm-77.so"), Some(deps.join("pm-77.d")));
        let built = of("build/tiny-0a1b/build-script-build");
        assert_eq!(built, Some(script.join("build_script_build-0a1b.d")));
        assert_eq!(of("deps/libother-11.rlib"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
