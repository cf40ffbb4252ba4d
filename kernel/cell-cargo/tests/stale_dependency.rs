//! A replay runs exactly what cargo would build: for each way a path dependency can change the
//! library cargo builds, a cell crate compiled by `hpr-cell-cargo` as the kernel compiles it
//! (`build --target HOST --message-format=json` in a folder whose package is `ctx`) replays
//! while nothing changed, and runs cargo after the change, so that the cell sees the new library.
//!
//! Every dependency exposes `tiny::VALUE: &str`; each cell asserts its value at compile time, so
//! a replay against the old library fails to compile.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// A folder of its own under the system's temporary folder (not under the repository, whose
/// workspace would claim the cell crate), deleted when the test ends.
struct Scene {
    root: PathBuf,
    cargo_home: Option<PathBuf>,
}

/// What one cell's build did.
struct Build {
    success: bool,
    /// The line hpr-cell-cargo logged for it: `replay` or `cargo (why)`.
    way: String,
    errors: String,
}

impl std::fmt::Display for Build {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})\n{}", self.success, self.way, self.errors)
    }
}

impl Scene {
    /// A scene whose cell crate (`cell/`) has these lines under `[dependencies]`.
    fn new(name: &str, dependencies: &str) -> Scene {
        let root =
            std::env::temp_dir().join(format!("hpr-cell-cargo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let scene = Scene {
            root,
            cargo_home: None,
        };
        let manifest = format!(
            "[package]\nname = \"ctx\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[lib]\n\
             crate-type = [\"cdylib\"]\npath = \"src/lib.rs\"\n\n[dependencies]\n{dependencies}\n"
        );
        scene.write("cell/Cargo.toml", &manifest);
        scene
    }

    /// cargo reads its home configuration from `home/` of the scene.
    fn with_cargo_home(mut self) -> Scene {
        let home = self.root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        self.cargo_home = Some(home);
        self
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Writes the package `name` in `folder`: its manifest (the package table, then `extra`)
    /// and `src/lib.rs`.
    fn package(&self, folder: &str, name: &str, extra: &str, lib: &str) {
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{extra}"
        );
        self.write(&format!("{folder}/Cargo.toml"), &manifest);
        self.write(&format!("{folder}/src/lib.rs"), lib);
    }

    /// Sets every file and folder of the scene a minute back, as if written long before the
    /// first cell (a file changed while cargo runs is never recorded for a replay).
    fn age(&self) {
        let past = SystemTime::now() - Duration::from_secs(60);
        let mut folders = vec![self.root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap().flatten() {
                let kind = entry.file_type().unwrap();
                if kind.is_dir() {
                    folders.push(entry.path());
                } else if kind.is_file() {
                    let file = std::fs::File::options()
                        .write(true)
                        .open(entry.path())
                        .unwrap();
                    file.set_modified(past).unwrap();
                }
            }
            std::fs::File::open(&folder)
                .unwrap()
                .set_modified(past)
                .unwrap();
        }
    }

    /// Compiles cell number `n`, which asserts that `tiny::VALUE` is `value`, as evcxr does.
    fn cell(&self, n: u32, value: &str) -> Build {
        let source = format!(
            "// cell {n}\nconst _: () = assert!(matches!(tiny::VALUE.as_bytes(), b\"{value}\"), \
             \"tiny::VALUE is not {value}: the old library\");\n"
        );
        self.write("cell/src/lib.rs", &source);
        let log = self.path("cell/target/hpr-cell-cargo/builds.log");
        let logged = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count();
        let mut command = Command::new(env!("CARGO_BIN_EXE_hpr-cell-cargo"));
        command
            .args(["build", "--target", host(), "--message-format=json"])
            .current_dir(self.path("cell"))
            .env("HPR_REAL_CARGO", real_cargo())
            .env("CARGO_NET_OFFLINE", "true");
        for name in [
            "HPR_KERNEL_LOCK",
            "HPR_CELL_CARGO",
            "HPR_EVCXR_BIN",
            "RUSTC_WRAPPER",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_HOME",
        ] {
            command.env_remove(name);
        }
        if let Some(home) = &self.cargo_home {
            command.env("CARGO_HOME", home);
        }
        let output = command.output().unwrap();
        let mut errors = String::from_utf8_lossy(&output.stderr).into_owned();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            if let Some(at) = line.find("\"rendered\":\"") {
                errors += &line[at..line.len().min(at + 400)];
                errors += "\n";
            }
        }
        let way = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .skip(logged)
            .find(|l| *l == "replay" || l.starts_with("cargo"))
            .unwrap_or("(nothing logged)")
            .to_owned();
        Build {
            success: output.status.success(),
            way,
            errors,
        }
    }

    /// The check every case makes: the first cell runs cargo and sees `old`, the second one
    /// replays (so the scene does replay), and after `change` the third runs cargo and sees `new`.
    fn assert_change_is_built(&self, old: &str, change: impl FnOnce(&Scene), new: &str) {
        self.age();
        let first = self.cell(1, old);
        assert!(first.success, "the first cell failed: {first}");
        let second = self.cell(2, old);
        assert!(
            second.success && second.way == "replay",
            "an unchanged dependency must replay: {second}"
        );
        // The recorded environment names cargo's jobserver, gone once cargo ended.
        assert!(
            !second.errors.contains("jobserver"),
            "the replay warns about cargo's jobserver: {second}"
        );
        change(self);
        let third = self.cell(3, new);
        assert!(
            third.success,
            "the cell after the change did not see the new library: {third}"
        );
        assert!(third.way.starts_with("cargo ("), "{third}");
        let fourth = self.cell(4, new);
        assert!(fourth.success, "{fourth}");
        eprintln!("after the change: {}, then {}", third.way, fourth.way);
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The host's target triple: evcxr names it with `--target`.
fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let output = Command::new("rustc").arg("-vV").output().unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let line = text.lines().find_map(|l| l.strip_prefix("host: "));
        line.expect("rustc -vV names the host").to_owned()
    })
}

/// The cargo running these tests, as the launcher names the real cargo.
fn real_cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

/// `tiny` in `tiny/`, whose `VALUE` is `"1"`.
fn tiny(scene: &Scene) {
    scene.package("tiny", "tiny", "", "pub const VALUE: &str = \"1\";\n");
}

fn edit_tiny(scene: &Scene) {
    scene.write("tiny/src/lib.rs", "pub const VALUE: &str = \"2\";\n");
}

#[test]
fn a_path_dependency_in_single_quotes() {
    let scene = Scene::new("single-quotes", "tiny = { path = '../tiny' }");
    tiny(&scene);
    scene.assert_change_is_built("1", edit_tiny, "2");
}

#[test]
fn a_file_included_from_outside_the_dependency() {
    let scene = Scene::new("include-str", "tiny = { path = \"../tiny\" }");
    let lib = "pub const VALUE: &str = include_str!(\"../../shared/x.txt\");\n";
    scene.package("tiny", "tiny", "", lib);
    scene.write("shared/x.txt", "1");
    scene.assert_change_is_built("1", |s| s.write("shared/x.txt", "2"), "2");
}

#[test]
fn a_module_from_outside_the_dependency() {
    let scene = Scene::new("path-module", "tiny = { path = \"../tiny\" }");
    let lib = "#[path = \"../../shared/y.rs\"]\nmod y;\npub const VALUE: &str = y::VALUE;\n";
    scene.package("tiny", "tiny", "", lib);
    scene.write("shared/y.rs", "pub const VALUE: &str = \"1\";\n");
    let edit = |s: &Scene| s.write("shared/y.rs", "pub const VALUE: &str = \"2\";\n");
    scene.assert_change_is_built("1", edit, "2");
}

#[test]
fn a_build_script_watching_a_file_outside_the_dependency() {
    let scene = Scene::new("rerun-if-changed", "tiny = { path = \"../tiny\" }");
    let lib = "pub const VALUE: &str = env!(\"TINY_VALUE\");\n";
    scene.package("tiny", "tiny", "", lib);
    let build = "fn main() {\n    let value = std::fs::read_to_string(\"../z\").unwrap();\n    \
                 println!(\"cargo:rustc-env=TINY_VALUE={}\", value.trim());\n    \
                 println!(\"cargo:rerun-if-changed=../z\");\n}\n";
    scene.write("tiny/build.rs", build);
    scene.write("z", "1\n");
    scene.assert_change_is_built("1", |s| s.write("z", "2\n"), "2");
}

#[test]
fn a_build_script_without_rerun_lines_watches_its_whole_package() {
    let scene = Scene::new("whole-package", "tiny = { path = \"../tiny\" }");
    let lib = "pub const VALUE: &str = env!(\"TINY_VALUE\");\n";
    scene.package("tiny", "tiny", "", lib);
    let build =
        "fn main() {\n    let value = std::fs::read_to_string(\"data/v.txt\").unwrap();\n    \
                 println!(\"cargo:rustc-env=TINY_VALUE={}\", value.trim());\n}\n";
    scene.write("tiny/build.rs", build);
    scene.write("tiny/data/v.txt", "1\n");
    scene.assert_change_is_built("1", |s| s.write("tiny/data/v.txt", "2\n"), "2");
}

#[test]
fn a_workspace_manifest_the_dependency_inherits_from() {
    let scene = Scene::new("workspace", "tiny = { path = \"../ws/tiny\" }");
    let root = "[workspace]\nmembers = [\"tiny\"]\n\n[workspace.package]\nversion = \"0.1.0\"\n";
    scene.write("ws/Cargo.toml", root);
    let manifest = "[package]\nname = \"tiny\"\nversion.workspace = true\nedition = \"2021\"\n";
    scene.write("ws/tiny/Cargo.toml", manifest);
    let lib = "pub const VALUE: &str = env!(\"CARGO_PKG_VERSION\");\n";
    scene.write("ws/tiny/src/lib.rs", lib);
    let bump = |s: &Scene| s.write("ws/Cargo.toml", &root.replace("0.1.0", "0.2.0"));
    scene.assert_change_is_built("0.1.0", bump, "0.2.0");
}

#[test]
fn a_symlinked_folder_inside_the_dependency() {
    let scene = Scene::new("symlink", "tiny = { path = \"../tiny\" }");
    scene.package(
        "tiny",
        "tiny",
        "",
        "mod linked;\npub const VALUE: &str = linked::VALUE;\n",
    );
    scene.write("elsewhere/mod.rs", "pub const VALUE: &str = \"1\";\n");
    std::os::unix::fs::symlink(scene.path("elsewhere"), scene.path("tiny/src/linked")).unwrap();
    let edit = |s: &Scene| s.write("elsewhere/mod.rs", "pub const VALUE: &str = \"2\";\n");
    scene.assert_change_is_built("1", edit, "2");
}

#[test]
fn a_hidden_folder_inside_the_dependency() {
    let scene = Scene::new("hidden", "tiny = { path = \"../tiny\" }");
    let lib = "#[path = \".generated/v.rs\"]\nmod v;\npub const VALUE: &str = v::VALUE;\n";
    scene.package("tiny", "tiny", "", lib);
    scene.write(
        "tiny/src/.generated/v.rs",
        "pub const VALUE: &str = \"1\";\n",
    );
    let edit = |s: &Scene| {
        s.write(
            "tiny/src/.generated/v.rs",
            "pub const VALUE: &str = \"2\";\n",
        )
    };
    scene.assert_change_is_built("1", edit, "2");
}

#[test]
fn a_folder_named_target_inside_the_dependency() {
    let scene = Scene::new("target-folder", "tiny = { path = \"../tiny\" }");
    scene.package(
        "tiny",
        "tiny",
        "",
        "mod target;\npub const VALUE: &str = target::VALUE;\n",
    );
    scene.write("tiny/src/target/mod.rs", "pub const VALUE: &str = \"1\";\n");
    let edit = |s: &Scene| s.write("tiny/src/target/mod.rs", "pub const VALUE: &str = \"2\";\n");
    scene.assert_change_is_built("1", edit, "2");
}

/// `tiny` from crates.io, patched to `tiny/` by the configuration file `config`.
fn patched_by(scene: &Scene, config: &str) {
    tiny(scene);
    scene.write(config, "[patch.crates-io]\ntiny = { path = \"tiny\" }\n");
}

#[test]
fn a_patch_in_a_configuration_file_up_the_folder_tree() {
    let scene = Scene::new("config-patch", "tiny = \"0.1\"");
    patched_by(&scene, ".cargo/config.toml");
    scene.assert_change_is_built("1", edit_tiny, "2");
}

#[test]
fn a_patch_in_cargo_homes_configuration() {
    let scene = Scene::new("home-patch", "tiny = \"0.1\"").with_cargo_home();
    patched_by(&scene, "home/config.toml");
    scene.assert_change_is_built("1", edit_tiny, "2");
}

/// `tiny` from `old/`, overridden by `tiny/` through `paths` in the configuration file `config`.
fn overridden_by(scene: &Scene, config: &str) {
    tiny(scene);
    scene.package("old", "tiny", "", "pub const VALUE: &str = \"old\";\n");
    scene.write(config, "paths = [\"tiny\"]\n");
}

#[test]
fn a_paths_override_in_a_configuration_file_up_the_folder_tree() {
    let scene = Scene::new("config-paths", "tiny = { path = \"../old\" }");
    overridden_by(&scene, ".cargo/config.toml");
    scene.assert_change_is_built("1", edit_tiny, "2");
}

#[test]
fn a_paths_override_in_cargo_homes_configuration() {
    let scene = Scene::new("home-paths", "tiny = { path = \"../old\" }").with_cargo_home();
    overridden_by(&scene, "home/config.toml");
    scene.assert_change_is_built("1", edit_tiny, "2");
}

#[test]
fn a_file_cargo_does_not_read_leaves_the_replay_on() {
    let scene = Scene::new("unread", "tiny = { path = \"../tiny\" }");
    tiny(&scene);
    scene.write("tiny/notes.txt", "a\n");
    scene.age();
    assert!(scene.cell(1, "1").success);
    assert_eq!(scene.cell(2, "1").way, "replay");
    scene.write("tiny/notes.txt", "ab\n");
    let after = scene.cell(3, "1");
    assert!(after.success, "{after}");
    assert_eq!(after.way, "replay", "cargo would not rebuild tiny: {after}");
}
