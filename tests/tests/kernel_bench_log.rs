//! `make bench-kernel` writes its run into docs/kernel-log.md (kernel/checks/bench_log.py): a
//! dated section of markdown tables, above the earlier ones. Checked on a made-up run, without a
//! kernel.

use notebook_tests::python_json;

#[test]
fn a_bench_run_becomes_a_dated_section_above_the_earlier_ones() {
    let script = r##"
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, "kernel/checks")
import bench_log
cpu = {"evcxr": 0.9, "tools": 0.8, "cells": 0.01}
KINDS = ["expression", "one-line function", "println!"]
def kernel(name, setup, medians):
    return {
        "kernel": name, "ready_seconds": 1.2, "linker": "lld",
        "setup": [{"cell": c, "seconds": s, "since_start": s + 1.3, "cpu": cpu} for c, s in setup],
        "background_analysis": {"seconds": 2.5, "cpu": 2.4},
        "trivial": {kind: [m] for kind, m in zip(KINDS, medians)},
        "trivial_median": medians[1], "trivial_p90": medians[2],
        "trivial_cpu": {"evcxr": 0.002, "tools": 0.1, "cells": 0.0},
        "trivial_builds": {"replay": 30, "cargo": 0},
    }
restarted = kernel("hpr-restart", [("shared setup", 1.0)], [0.12, 0.099, 0.11])
restarted["breakdown"] = [{"cell": "println!", "cell_seconds": 0.11, "unavailable": "no folder"}]
by_kind = {"expression": 0.68, "one-line function": 1.22, "println!": 1.27}
paired = {"median": {"hpr": 0.106, "plain": 0.083}, "ratio": {"plain": 1.27},
          "ratio_by_kind": {"plain": by_kind}}
report = {
    "machine": {"summary": "a test machine", "commit": "abc1234"},
    "repeats": 1,
    "results": [kernel("plain", [], [0.2, 0.075, 0.097]), restarted],
    "paired": {"repeated": paired},
}
section = bench_log.section(report, time.strptime("2026-12-08 14:05", "%Y-%m-%d %H:%M"))
with tempfile.TemporaryDirectory() as folder:
    log = Path(folder) / "kernel-log.md"
    log.write_text("# The kernel's log\n\nIntro.\n\n## 2026-01-01: an earlier run\n\nIts text.\n")
    bench_log.add_to_log(log, section)
    print(json.dumps({"section": section, "log": log.read_text()}))
"##;
    let written = python_json(script);
    let section = written["section"].as_str().unwrap();
    assert!(
        section.starts_with("## 2026-12-08: `make bench-kernel` (14:05)\n"),
        "{section}"
    );
    for expected in [
        "at commit abc1234: 1 run of each trivial cell.\nThe machine: a test machine.",
        "| plain (no dependency) | 1.2 s | – | 2.5 s | 0.075 s | 0.097 s | 1.00 | 0.002 s |",
        "| hpr, restarted | 1.2 s | shared setup 1.0 (2.3) | 2.5 s | 0.099 s | 0.110 s | 1.32 |",
        "| hpr, restarted | 0.120 s | 0.099 s | 0.110 s |",
        "| repeated | 0.106 s | 0.083 s | 1.27 (0.68, 1.22, 1.27) |",
        "| hpr, restarted | shared setup | 1.00 s | 0.90 s | 0.80 s | 0.01 s |",
        "| hpr, restarted | `println!` | unavailable: no folder |",
    ] {
        assert!(
            section.contains(expected),
            "{expected:?} missing from:\n{section}"
        );
    }
    let log = written["log"].as_str().unwrap();
    assert_eq!(
        log,
        format!(
            "# The kernel's log\n\nIntro.\n\n{section}\n\
             ## 2026-01-01: an earlier run\n\nIts text.\n"
        ),
        "the new section goes between the introduction and the earlier runs"
    );
}
