//! A notebook that fails leaves no program it started running: a Redis server and a queue
//! worker started with `hpr::Service` must be gone once the run of a failing notebook ends.
//!
//! The fixture lives in `tests/fixtures/services/` (not `tests/fixtures/`, whose notebooks the
//! harness test runs all together) and is copied one folder below the workspace root before it
//! runs, so that its `../helpers` and `../target/release/queue-worker` resolve as in notebooks/.

use notebook_tests::{execute, root};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn redis_server_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `pid` runs a program whose command line contains `name` (a zombie has ended).
fn running(pid: u32, name: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let zombie = stat[stat.rfind(')').map_or(0, |i| i + 2)..].starts_with('Z');
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    !zombie && String::from_utf8_lossy(&cmdline).contains(name)
}

fn gone_within(pid: u32, name: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while running(pid, name) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[test]
fn services_of_a_failed_notebook_do_not_outlive_it() {
    // `make setup` installs it: without it this test would prove nothing.
    assert!(
        redis_server_installed(),
        "redis-server is not installed: run `make setup` (Debian package redis-server)"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "queue-worker"])
        .current_dir(root())
        .status()
        .expect("cargo runs");
    assert!(built.success(), "building queue-worker failed");

    let fixture = root().join("tests/fixtures/services/services_left_running.ipynb");
    let copy = root().join("target/services_left_running.ipynb");
    std::fs::copy(&fixture, &copy).expect("copying the fixture");
    let outcomes = execute(std::slice::from_ref(&copy), 120).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_file(Path::new(&copy));

    let outcome = &outcomes[0];
    let failure = outcome
        .failure
        .as_ref()
        .expect("the fixture fails on purpose");
    assert_eq!(failure.reason, "panic", "{outcome}");
    assert_eq!(failure.cell, Some(2), "{outcome}");
    let pids: Vec<u32> = failure
        .message
        .split("service pids: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no pids in the failure: {outcome}"))
        .split_whitespace()
        .take(2)
        .map(|p| p.parse().expect("a pid"))
        .collect();
    assert_eq!(pids.len(), 2, "{outcome}");
    for (pid, name) in pids.into_iter().zip(["redis-server", "queue-worker"]) {
        assert!(
            gone_within(pid, name, Duration::from_secs(10)),
            "{name} (pid {pid}) outlived the failed notebook"
        );
    }
}
