//! A kernel builds the versions of the kernels' lock file, whatever the registry offers (see
//! kernel/cell-cargo's `lock`): with a newer release of a locked crate in the registry, the kernel
//! still builds the locked one, and it refuses a crate the lock file lacks, by name. The registry
//! here is a folder of crates the test writes (cargo's directory source in place of crates.io),
//! so the test needs no network and proves what a release on crates.io would do.

use notebook_tests::{assert_cell_cargo_is_built, execute_with_env, root, Outcome};
use std::hash::{DefaultHasher, Hasher};
use std::path::PathBuf;

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// A folder outside the repository (where cargo would take the cell crate for a member of the
/// workspace) with the registry, the kernels' build folders and a lock file.
struct Scene {
    work: PathBuf,
}

impl Scene {
    fn new(test: &str) -> Scene {
        let work =
            std::env::temp_dir().join(format!("hpr-kernel-lock-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let builds = work.join("builds/.cargo");
        std::fs::create_dir_all(&builds).unwrap();
        let config = format!(
            "[source.crates-io]\nreplace-with = \"test-registry\"\n\n\
             [source.test-registry]\ndirectory = \"{}\"\n",
            work.join("registry").display()
        );
        std::fs::write(builds.join("config.toml"), config).unwrap();
        Scene { work }
    }

    /// A scene whose registry and lock file hold `hpr-probe` 1.0.0, and that lock file.
    fn with_locked_probe(test: &str) -> (Scene, PathBuf) {
        assert_cell_cargo_is_built();
        let scene = Scene::new(test);
        let checksum = scene.publish("hpr-probe", "1.0.0");
        let lock = scene.lock("hpr-probe", "1.0.0", &checksum);
        (scene, lock)
    }

    /// Publishes `name` `version` (its `VERSION` says which) and returns its checksum.
    fn publish(&self, name: &str, version: &str) -> String {
        let dir = self.work.join("registry").join(format!("{name}-{version}"));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let manifest =
            format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n");
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        let lib = format!("pub const VERSION: &str = \"{version}\";\n");
        std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
        let mut hasher = DefaultHasher::new();
        hasher.write(format!("{name} {version}").as_bytes());
        let checksum = format!("{:064x}", hasher.finish());
        let listing = format!("{{\"files\":{{}},\"package\":\"{checksum}\"}}");
        std::fs::write(dir.join(".cargo-checksum.json"), listing).unwrap();
        checksum
    }

    /// A lock file that holds `name` `version` from crates.io.
    fn lock(&self, name: &str, version: &str, checksum: &str) -> PathBuf {
        let path = self.work.join("kernel.lock");
        let text = format!(
            "version = 4\n\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"{CRATES_IO}\"\nchecksum = \"{checksum}\"\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs a fixture of tests/fixtures/kernel_lock in a new kernel with this lock setting.
    fn run(&self, fixture: &str, lock: &str, expected: &str) -> Outcome {
        let notebook = root().join("tests/fixtures/kernel_lock").join(fixture);
        let builds = self.work.join("builds");
        let env = [
            ("HPR_EVCXR_BUILD_DIR", builds.to_str().unwrap()),
            ("HPR_KERNEL_LOCK", lock),
            ("HPR_PROBE_EXPECTED", expected),
        ];
        let mut outcomes =
            execute_with_env(&[notebook], 300, &env).unwrap_or_else(|e| panic!("{e}"));
        outcomes.remove(0)
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

#[test]
fn a_newer_release_in_the_registry_does_not_change_a_kernel_build() {
    let (scene, lock) = Scene::with_locked_probe("release");
    scene.publish("hpr-probe", "1.1.0");

    // Without the lock file (and in the same build folder) the registry's newest is taken: the
    // registry really offers the newer release.
    let unlocked = scene.run("locked_version.ipynb", "off", "1.1.0");
    assert!(unlocked.failure.is_none(), "{unlocked}");
    // With it, the kernel builds the locked release, although the folder held the newer one.
    let kept = scene.run("locked_version.ipynb", lock.to_str().unwrap(), "1.0.0");
    assert!(
        kept.failure.is_none(),
        "the kernel did not build the locked version: {kept}"
    );
}

#[test]
fn a_crate_the_lock_file_lacks_is_refused_by_name() {
    let (scene, lock) = Scene::with_locked_probe("lacking");
    scene.publish("hpr-unlocked", "1.0.0");

    let refused = scene.run("unlocked_crate.ipynb", lock.to_str().unwrap(), "");
    let failure = refused
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("a crate outside the lock file was built: {refused}"));
    assert!(
        failure
            .message
            .contains("hpr-unlocked 1.0.0 is not in the kernels' lock file"),
        "the refusal does not name the crate: {refused}"
    );
    assert_eq!(failure.cell, Some(1), "{refused}");
}
