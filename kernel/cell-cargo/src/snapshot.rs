//! What cargo reads before it looks at any unit, as lines of text: the arguments, the environment,
//! the programs, cargo's configuration files, the lock file, and every manifest of the graph's path
//! packages with the manifests cargo looks at for their workspaces. Two equal snapshots, and
//! unchanged files for each path package's units (`sources`), mean cargo would only recompile the
//! cell crate.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::OsString;
use std::hash::{DefaultHasher, Hasher};
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;
use toml::{Table, Value};

/// Beyond this many files walked (a `paths` override's folder, a build script's whole package),
/// walking them would cost what cargo costs: the walk stops there and cargo runs.
pub const MOST_FILES: usize = 20_000;

/// The tables of a manifest (and of each `[target.'cfg(…)']` table) that name dependencies.
const DEPENDENCY_TABLES: [&str; 5] = [
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
];

/// The snapshot for a `cargo ARGS` run in `folder`, or `None` when one cannot be taken (a path
/// that is not UTF-8, a manifest or configuration file that is not TOML, too many files): then
/// cargo runs every time. With the kernels' lock file (`lock`), which is written over the
/// folder's before cargo runs, that file stands for the folder's.
pub fn take(folder: &Path, args: &[OsString], lock: Option<&Path>) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    for arg in args {
        lines.push(format!("arg {}", arg.to_str()?));
    }
    lines.extend(environment()?.iter().map(|(k, v)| format!("env {k}={v}")));
    for program in ["RUSTC", crate::REAL_CARGO_ENV] {
        if let Some(path) = std::env::var_os(program) {
            lines.push(format!("program {}", stamp(Path::new(&path))?));
        }
    }
    let lock = lock.map_or_else(|| folder.join("Cargo.lock"), Path::to_path_buf);
    lines.push(content_line(&lock, std::fs::read(&lock).ok().as_deref())?);
    let mut packages = vec![folder.join("Cargo.toml")];
    let mut budget = MOST_FILES;
    for file in configuration_files(folder) {
        let text = std::fs::read_to_string(&file).ok();
        lines.push(content_line(&file, text.as_deref().map(str::as_bytes))?);
        let Some(text) = text else { continue };
        let config: Table = text.parse().ok()?;
        // Relative paths in a configuration file start from the folder that holds its `.cargo`
        // folder (for `$CARGO_HOME/config.toml`, CARGO_HOME's parent).
        let base = file.parent()?.parent()?;
        packages.extend(patch_paths(&config).map(|p| base.join(p).join("Cargo.toml")));
        // A `paths` override is searched for every package under it.
        let overrides = config.get("paths").and_then(Value::as_array);
        for path in overrides.into_iter().flatten().filter_map(Value::as_str) {
            let root = base.join(path);
            for found in walk(&root, &|_, _| false, &mut budget)? {
                if found.is_dir() || found == root {
                    lines.push(format!("file {}", stamp(&found)?));
                } else if found.ends_with("Cargo.toml") {
                    packages.push(found);
                }
            }
        }
    }
    manifests(packages, &folder.join("Cargo.toml"), &mut lines)?;
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

/// Every configuration file cargo reads for a run in `folder`: `.cargo/config.toml` (and the
/// older `.cargo/config`) in the folder and each folder above it, then in CARGO_HOME.
fn configuration_files(folder: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let dot_cargo = folder.ancestors().map(|dir| dir.join(".cargo"));
    let mut files = Vec::new();
    for dir in dot_cargo.chain(home) {
        files.push(dir.join("config.toml"));
        files.push(dir.join("config"));
    }
    files
}

/// `content PATH DIGEST LENGTH`, or `content PATH absent` without `bytes`.
fn content_line(path: &Path, bytes: Option<&[u8]>) -> Option<String> {
    let digest = match bytes {
        Some(bytes) => {
            let mut hasher = DefaultHasher::new();
            hasher.write(bytes);
            format!("{:016x} {}", hasher.finish(), bytes.len())
        }
        None => "absent".to_owned(),
    };
    Some(format!("content {} {digest}", path.to_str()?))
}

/// How cargo reads a manifest: as a package of the graph, or as a manifest above a package that
/// it looks at for the package's workspace (whose `[workspace.dependencies]` and
/// `[workspace.package]` the package may inherit).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Package,
    Above,
}

/// Adds a `content` line for every manifest cargo reads, starting from `packages` (the cell
/// crate's manifest, and those of `[patch]` and `paths` in cargo's configuration) and following
/// every `path` they name, with every `Cargo.toml` in the folders above each package (absent ones
/// too: one that appears makes a workspace). Each package but the cell crate (`cell`) gets a
/// `file` line for its folder and its `src` folder, whose files cargo looks for (`build.rs`,
/// `src/lib.rs`). `None` when a manifest is not TOML (cargo will say why).
fn manifests(packages: Vec<PathBuf>, cell: &Path, lines: &mut Vec<String>) -> Option<()> {
    let mut queue: VecDeque<(PathBuf, Role)> =
        packages.into_iter().map(|p| (p, Role::Package)).collect();
    let mut seen = BTreeSet::new();
    let mut read = BTreeSet::new();
    while let Some((manifest, role)) = queue.pop_front() {
        let manifest = normal(&manifest);
        if !seen.insert((manifest.clone(), role)) {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).ok();
        if read.insert(manifest.clone()) {
            lines.push(content_line(&manifest, text.as_deref().map(str::as_bytes))?);
        }
        let Some(text) = text else { continue };
        let table: Table = text.parse().ok()?;
        let base = manifest.parent()?;
        for path in dependency_paths(&table, role == Role::Package) {
            queue.push_back((base.join(path).join("Cargo.toml"), Role::Package));
        }
        if role == Role::Above {
            continue;
        }
        let package = table.get("package");
        if let Some(root) = package.and_then(|p| p.get("workspace")?.as_str()) {
            queue.push_back((base.join(root).join("Cargo.toml"), Role::Above));
        }
        let real = base.canonicalize().ok().filter(|real| real != base);
        for folder in [Some(base), real.as_deref()].into_iter().flatten() {
            for above in folder.ancestors().skip(1) {
                queue.push_back((above.join("Cargo.toml"), Role::Above));
            }
        }
        if manifest != normal(cell) && package.is_some() {
            lines.push(format!("file {}", stamp(base)?));
            lines.push(format!("file {}", stamp(&base.join("src"))?));
        }
    }
    Some(())
}

/// The `path` of every dependency a manifest names: in its dependency tables (a package's only),
/// `[patch.*]`, `[replace]` and `[workspace.dependencies]`.
fn dependency_paths(manifest: &Table, package: bool) -> Vec<&str> {
    let mut tables: Vec<&Table> = Vec::new();
    if package {
        let platforms = manifest.get("target").and_then(Value::as_table);
        let holders = std::iter::once(manifest).chain(
            platforms
                .into_iter()
                .flat_map(|t| t.values().filter_map(Value::as_table)),
        );
        for holder in holders {
            for key in DEPENDENCY_TABLES {
                tables.extend(holder.get(key).and_then(Value::as_table));
            }
        }
    }
    tables.extend(manifest.get("replace").and_then(Value::as_table));
    let workspace = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"));
    tables.extend(workspace.and_then(Value::as_table));
    let named = tables
        .into_iter()
        .flat_map(|t| t.values())
        .filter_map(|dependency| dependency.get("path")?.as_str());
    named.chain(patch_paths(manifest)).collect()
}

/// The `path` of every `[patch.REGISTRY]` entry (in a manifest or in cargo's configuration).
fn patch_paths(table: &Table) -> impl Iterator<Item = &str> {
    let registries = table.get("patch").and_then(Value::as_table);
    registries
        .into_iter()
        .flat_map(|r| r.values().filter_map(Value::as_table))
        .flat_map(|patches| patches.values())
        .filter_map(|patch| patch.get("path")?.as_str())
}

/// `path` without `.` and `a/..` components, as cargo spells a path dependency's folder (its
/// folders above are those of this spelling, whatever symbolic links lie on the way).
fn normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if normal.file_name().is_some() => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// Everything under `root` (or `root` itself when it is not a folder): each folder (a file added
/// or removed changes its mtime) and each file, in a stable order, following symbolic links; a
/// folder for which `skip(folder, is_at_top)` holds is left out with all it holds. `budget` is
/// reduced by the number found; `None`, without walking further, once more than `budget` are.
pub fn walk(
    root: &Path,
    skip: &dyn Fn(&Path, bool) -> bool,
    budget: &mut usize,
) -> Option<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut folders = Vec::new();
    if root.is_dir() {
        folders.push(root.to_path_buf());
    } else {
        found.push(root.to_path_buf());
    }
    while let Some(folder) = folders.pop() {
        let at_top = folder == root;
        found.push(folder.clone());
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for entry in entries {
            if !entry.is_dir() {
                found.push(entry);
            } else if !skip(&entry, at_top) {
                folders.push(entry);
            }
        }
        if found.len() > *budget {
            return None;
        }
    }
    *budget -= found.len();
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(manifest: &str, package: bool) -> Vec<String> {
        let table: Table = manifest.parse().unwrap();
        let found = dependency_paths(&table, package);
        found.into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn finds_every_dependency_path_but_not_the_packages_own_sources() {
        let manifest = r#"
[package]
name = "ctx"
workspace = "../ws"
[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"
[dependencies]
hpr = { path = "/work/helpers" }
pins = { path = '../pins', features = ["polars"] } # a comment with path = "nowhere"
polars = { version = "0.55", default-features = false }
[dependencies.tiny]
path = "tiny"
[target.'cfg(unix)'.build-dependencies]
unixy = { path = "unixy" }
[patch.crates-io]
serde = { git = "x", path = "vendored/serde" }
[workspace.dependencies]
shared = { path = "shared" }
"#;
        let mut found = paths(manifest, true);
        found.sort();
        let expected = [
            "../pins",
            "/work/helpers",
            "shared",
            "tiny",
            "unixy",
            "vendored/serde",
        ];
        assert_eq!(found, expected);
        // Above a package, only what a workspace gives.
        let mut above = paths(manifest, false);
        above.sort();
        assert_eq!(above, ["shared", "vendored/serde"]);
    }

    #[test]
    fn normal_paths_lose_dots_but_keep_leading_parents() {
        assert_eq!(
            normal(Path::new("/a/cell/../tiny/./src")),
            Path::new("/a/tiny/src")
        );
        assert_eq!(normal(Path::new("../x/../y")), Path::new("../y"));
    }

    fn scratch(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("hpr-cell-cargo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    #[test]
    fn manifests_and_the_workspace_above_a_dependency_are_in_the_snapshot() {
        let root = scratch("snapshot");
        let tiny = root.join("ws/tiny");
        std::fs::create_dir_all(tiny.join("src")).unwrap();
        std::fs::create_dir_all(root.join("cell")).unwrap();
        let workspace = "[workspace]\nmembers = ['tiny']\n[workspace.package]\nversion = '1.0.0'\n";
        std::fs::write(root.join("ws/Cargo.toml"), workspace).unwrap();
        std::fs::write(tiny.join("Cargo.toml"), "[package]\nname = 'tiny'\n").unwrap();
        std::fs::write(tiny.join("src/lib.rs"), "").unwrap();
        let cell = root.join("cell");
        let manifest =
            "[package]\nname = \"ctx\"\n[dependencies]\ntiny = { path = '../ws/tiny' }\n";
        std::fs::write(cell.join("Cargo.toml"), manifest).unwrap();
        let take = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            take(&cell, &args, None).unwrap()
        };
        let before = take(&["build"]);
        assert_eq!(take(&["build"]), before);
        let has = |lines: &[String], start: &str, path: &Path| {
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{start} {} ", path.display())))
        };
        assert!(
            has(&before, "content", &tiny.join("Cargo.toml")),
            "{before:?}"
        );
        assert!(
            has(&before, "content", &root.join("ws/Cargo.toml")),
            "{before:?}"
        );
        assert!(
            has(&before, "content", &root.join("Cargo.toml")),
            "{before:?}"
        );
        assert!(has(&before, "file", &tiny.join("src")), "{before:?}");
        // The sources are not: cargo's records of its units name those (see `sources`).
        assert!(!before.iter().any(|l| l.contains("lib.rs")), "{before:?}");

        std::fs::write(
            root.join("ws/Cargo.toml"),
            workspace.replace("1.0.0", "1.0.1"),
        )
        .unwrap();
        let bumped = take(&["build"]);
        assert_ne!(bumped, before);
        std::fs::write(tiny.join("build.rs"), "fn main() {}").unwrap();
        assert_ne!(take(&["build"]), bumped);
        assert_ne!(take(&["build", "-v"]), take(&["build"]));
        std::fs::write(cell.join("Cargo.toml"), "[package\n").unwrap();
        assert!(
            super::take(&cell, &[], None).is_none(),
            "not TOML: cargo runs"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_walk_stops_past_its_budget() {
        let root = scratch("walk");
        std::fs::create_dir_all(root.join("src/.hidden")).unwrap();
        for n in 0..10 {
            std::fs::write(root.join(format!("src/f{n}.rs")), "").unwrap();
        }
        // The folder, src/, src/.hidden and the ten files.
        let mut budget = 13;
        assert_eq!(
            walk(&root, &|_, _| false, &mut budget).map(|f| f.len()),
            Some(13)
        );
        assert_eq!(budget, 0);
        let mut budget = 12;
        assert!(walk(&root, &|_, _| false, &mut budget).is_none());
        let mut budget = 100;
        let skipped = walk(&root, &|f, _| f.ends_with("src"), &mut budget).unwrap();
        assert_eq!(skipped, std::slice::from_ref(&root));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
