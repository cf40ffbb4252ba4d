//! The kernel launcher drops evcxr cache entries whose dep-info names a source inside a build
//! folder that is gone (a build script's output, included by absolute path): cargo would find
//! that crate stale on every cell and rebuild everything above it. Entries whose sources exist
//! are kept, and so are entries naming registry sources, which the check does not judge.

use notebook_tests::{python, root};
use std::path::Path;
use std::process::Command;

fn entry(cache: &Path, name: &str, dep_info: &str) {
    let dir = cache.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("crate-0123.d"), dep_info).unwrap();
    std::fs::write(dir.join("hits"), "0").unwrap();
}

#[test]
fn entries_naming_a_deleted_build_folder_are_dropped_and_others_kept() {
    let scratch = root().join("target/evcxr-cache-check");
    let _ = std::fs::remove_dir_all(&scratch);
    let cache = scratch.join("evcxr");
    let kept_out = scratch.join("slot-0/target/debug/build/serde-1/out");
    std::fs::create_dir_all(&kept_out).unwrap();
    std::fs::write(kept_out.join("private.rs"), "").unwrap();
    let gone = scratch.join("deleted-slot/target/debug/build/rustversion-1/out/version.expr");
    let registry = "/no/such/registry/src/lib.rs";
    entry(
        &cache,
        "stale",
        &format!(
            "{0}/deleted-slot/target/debug/deps/librustversion-1.rmeta: {registry} {1}\n\n{1}:\n",
            scratch.display(),
            gone.display()
        ),
    );
    entry(
        &cache,
        "fresh",
        &format!(
            "/old/target/debug/deps/libserde-1.rmeta: {}\n",
            kept_out.join("private.rs").display()
        ),
    );
    entry(
        &cache,
        "registry-only",
        &format!("/old/target/debug/deps/libx.rmeta: {registry}\n"),
    );
    let python = python().unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(&python)
        .arg(root().join("scripts/evcxr_cache_check.py"))
        .arg("--cache")
        .arg(&cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!cache.join("stale").exists(), "{stderr}");
    assert!(stderr.contains("version.expr is gone"), "{stderr}");
    assert!(cache.join("fresh").exists(), "{stderr}");
    assert!(cache.join("registry-only").exists(), "{stderr}");
    assert!(stderr.contains("dropped 1 evcxr cache entries"), "{stderr}");
}
