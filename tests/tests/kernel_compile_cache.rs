//! The shared setup cell reuses compiled dependencies across kernels: a second kernel running
//! it must take every dependency of `hpr` from evcxr's cache (`~/.cache/evcxr`) instead of
//! compiling it again. evcxr counts the hits of each cache entry in a `hits` file.

use notebook_tests::{execute_with_env, root, SETUP_LINES};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME is set")).join(".cache")
        });
    base.join("evcxr")
}

fn total_hits() -> u64 {
    let Ok(entries) = std::fs::read_dir(cache_dir()) else {
        return 0;
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("hits")).ok())
        .filter_map(|text| text.trim().parse::<u64>().ok())
        .sum()
}

/// Crates in hpr's normal dependency tree, hpr itself excluded.
fn dependency_count() -> u64 {
    let output = Command::new("cargo")
        .args(["tree", "-p", "hpr", "-e", "normal", "--prefix", "none"])
        .current_dir(root())
        .output()
        .expect("cargo tree runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut crates: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split(' ').next())
        .filter(|c| *c != "hpr")
        .collect();
    crates.sort_unstable();
    crates.dedup();
    crates.len() as u64
}

#[test]
fn a_second_kernel_reuses_compiled_dependencies() {
    // The probe sits one folder below the root, like notebooks/, so `../helpers` resolves.
    let probe = root().join("target/cache-probe.ipynb");
    let notebook = json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "rust", "display_name": "Rust", "language": "rust"}},
        "cells": [{"cell_type": "code", "id": "probe", "metadata": {}, "execution_count": null, "outputs": [],
                   "source": SETUP_LINES}]
    });
    std::fs::write(&probe, serde_json::to_string(&notebook).unwrap()).unwrap();

    // Fill the cache first in a build folder the kernel launcher keeps (kernel/launcher): a
    // crate whose build script writes a source file (serde's private.rs) is cached with that
    // file's path, and if the folder that built it were deleted, cargo would find the crate
    // stale in every later kernel and rebuild it and everything above it on every cell.
    let first =
        execute_with_env(std::slice::from_ref(&probe), 600, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(first[0].failure.is_none(), "{}", first[0]);
    // Then a kernel in a throwaway build folder, as evcxr makes by default: a folder kept by the
    // launcher would let it skip the cache.
    let throwaway = [("HPR_EVCXR_BUILD_DIR", "none")];
    let hits_before = total_hits();
    let second = execute_with_env(std::slice::from_ref(&probe), 600, &throwaway)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(second[0].failure.is_none(), "{}", second[0]);
    let new_hits = total_hits() - hits_before;

    let dependencies = dependency_count();
    println!("second kernel: {new_hits} cache hits for {dependencies} dependencies");
    assert!(
        dependencies >= 5,
        "cargo tree listed only {dependencies} dependencies"
    );
    assert!(
        new_hits >= dependencies,
        "the second kernel took only {new_hits} of {dependencies} dependencies from {}",
        cache_dir().display()
    );
}
