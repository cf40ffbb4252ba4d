"""How fast the evcxr kernel answers, measured through a real Jupyter client.

Kernels are started one after another in notebooks/ (so `../helpers` resolves as in the
chapters), on evcxr's warm compile cache, through the project's kernel launcher
(kernel/launcher) with build folders in a new folder under ~/.cache/hpr/bench-builds/
(deleted afterwards unless evcxr's cache holds crates built there):

  plain           no dependency: the reference for trivial cells
  hpr             the shared setup cell of every notebook, in a new build folder
  hpr-restart     the same in the folder the previous kernel left (a restarted kernel)
  polars          the shared setup cell, chapter 07's `:dep polars` cell and a first DataFrame
  polars-restart  the same, restarted
  polars-typed    the same, restarted again, the first DataFrame's type written out
                  (`let frame: DataFrame`): evcxr keeps it without asking rust-analyzer, so
                  the cell does not wait for the analysis of polars that the `:dep` cell started

For each it records the time from kernel start to each setup cell's reply, how long evcxr's
analysis of the new dependencies then runs on in the background (the bench waits for it), then
the reply time of trivial cells (an expression, a one-line function, a println!), each
repeated, and for each setup cell and the trivial cells the CPU time of evcxr itself (with the
rust-analyzer it embeds), of the tools it waited for (cargo, rustc, the linker) and of the
process that runs the cells, from /proc.
It writes target/bench/kernel.json and prints a table; `make bench-kernel` runs it.

With --breakdown, for each kernel that keeps its build folder, it also splits the last setup
cell's and the last trivial cell's build into where the time goes (cell_breakdown.py).

Last, an hpr kernel and two plain kernels (one of which first ran a cell with `?`, which puts
evcxr's runtime into every later cell, as the shared setup cell does in every chapter) run the
trivial cells taking turns, cell by cell, so that the machine's drift during the run weighs on
all alike: the ratios of their medians are the ones to compare with the issue's 1.2 (the ratios
of the kernels above, run one after the other, move with the machine's speed).

Usage: kernel_bench.py [--repeats N] [--out FILE] [--kernels plain,hpr,hpr-restart,...]
                       [--no-paired] [--breakdown]
"""

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

import bench_log
from cell_breakdown import kernel_environment, split_build
from kernel_check import evcxr_process, run, shared_setup_cell, started_kernel, stat_fields

ROOT = Path(__file__).resolve().parents[2]
# The kernels run where the chapters do, so that `../helpers` resolves as there.
NOTEBOOKS = ROOT / "notebooks"
# The bench's build folders: outside the repository (cargo would take them for workspace
# members), and kept while evcxr's cache needs them (see release_build_folder).
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
BENCH_BUILDS = CACHE_HOME / "hpr" / "bench-builds"
# evcxr's compile cache (which the launcher switches on, see kernel/cell-cargo).
EVCXR_CACHE = CACHE_HOME / "evcxr"
TRIVIAL_CELLS = {
    "expression": "1 + 1",
    "one-line function": "fn add_one(x: u64) -> u64 { x + 1 }",
    "println!": 'println!("hello");',
}
# A plain kernel's cell that returns an error with `?`: from then on evcxr wraps every cell in its
# runtime (an error type and a variable store), as in the chapters, whose shared setup cell ends
# with `hpr::ensure_release_profile()?;`.
QUESTION_MARK_CELL = '"1".parse::<u8>()?;'
FIRST_DATAFRAME = 'let frame = df!("a" => [1i64, 2, 3])?;\nframe.height()'
FIRST_DATAFRAME_TYPED = 'let frame: DataFrame = df!("a" => [1i64, 2, 3])?;\nframe.height()'


def setup_cells():
    """The shared setup cell (from the tour) and chapter 07's polars cell, as the chapters have
    them."""
    shared = shared_setup_cell()
    polars_nb = nbformat.read(ROOT / "notebooks/07-dataframes-polars.ipynb", as_version=4)
    polars = next(
        c.source for c in polars_nb.cells if c.cell_type == "code" and ":dep polars" in c.source
    )
    return shared, polars


def timed(client, code, timeout):
    """Runs one cell; returns its wall time in seconds, or raises with the kernel's error (evcxr
    reports a panic as a cell that succeeded, with the message on stderr)."""
    started = time.monotonic()
    result = run(client, code, timeout=timeout)
    seconds = time.monotonic() - started
    if result["status"] != "ok" or result["error"] or "panicked" in result["stderr"]:
        errors = "\n".join(filter(None, [result["error"], result["stderr"]]))
        raise RuntimeError(f"cell failed: {code[:80]!r}\n" + errors[:2000])
    return seconds


def kernel_says(client, command):
    """The text a kernel command (`:linker`, `:last_compile_dir`) answers."""
    return (run(client, command, timeout=60)["value"] or "").strip()


def cpu_seconds(pid):
    """CPU seconds so far of the kernel process and of what it ran, from /proc (zeros without it).

    evcxr: the kernel's own threads (evcxr and the rust-analyzer it embeds, which infers the
    type of every variable a cell defines); tools: the processes it waited for (cargo, rustc,
    the linker, `cargo metadata`); cells: the long-lived child process that runs the cells.
    """
    ticks = os.sysconf("SC_CLK_TCK")

    def fields(stat_pid):
        # utime, stime, cutime, cstime: fields 14-17 in proc(5)'s numbering.
        return [int(x) for x in stat_fields(f"/proc/{stat_pid}/stat")[11:15]]

    try:
        utime, stime, cutime, cstime = fields(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        cells = sum(sum(fields(int(child))[:2]) for child in children)
    except (OSError, ValueError):
        return {"evcxr": 0.0, "tools": 0.0, "cells": 0.0}
    return {
        "evcxr": (utime + stime) / ticks,
        "tools": (cutime + cstime) / ticks,
        "cells": cells / ticks,
    }


def wait_for_background_analysis(pid, limit=600, quiet=0.5):
    """Waits until evcxr's own threads stop using the CPU; returns how long they kept at it.

    The patched evcxr (kernel/evcxr) analyses a new dependency graph in a background thread and
    answers the cell that added it before that analysis ends. Trivial cells measured meanwhile
    would share the CPU with it, so the bench waits, and reports the wait: the seconds from the
    last setup cell's reply (or the kernel's start) to the last half second in which evcxr used
    more than 0.05 s of CPU, and the CPU seconds it used.
    """
    started = time.monotonic()
    first = last = cpu_seconds(pid)["evcxr"]
    busy_until = started
    while time.monotonic() - started < limit:
        time.sleep(quiet)
        now = cpu_seconds(pid)["evcxr"]
        if now - last < 0.05:
            break
        busy_until, last = time.monotonic(), now
    return {"seconds": round(busy_until - started, 2), "cpu": round(last - first, 2)}


def cpu_since(pid, before):
    now = cpu_seconds(pid)
    return {key: round(now[key] - before[key], 2) for key in now}


def cell_builds(folder):
    """How many builds hpr-cell-cargo (kernel/cell-cargo) replayed and how many ran cargo, so
    far."""
    try:
        lines = (Path(folder) / "target/hpr-cell-cargo/builds.log").read_text().splitlines()
    except OSError:
        return {"replay": 0, "cargo": 0}
    # One line per build: "replay", or "cargo (why)".
    ways = [line.split(" ", 1)[0] for line in lines]
    return {way: ways.count(way) for way in ("replay", "cargo")}


def release_build_folder(folder):
    """Deletes a bench build folder unless evcxr's cache holds a crate built there; returns
    whether it did.

    A cache entry's dep-info names its sources by absolute path, and for a crate whose build
    script writes a source (serde's private.rs, rustversion's version.expr) that path lies in the
    folder that built it. Were the folder deleted, cargo would find the crate stale in every later
    kernel and restore it and every crate above it on every cell (about 1.5 s a cell with polars).
    """
    prefix = str(folder.resolve()) + "/"
    for dep_info in EVCXR_CACHE.glob("*/*.d"):
        try:
            if prefix in dep_info.read_text(encoding="utf-8", errors="replace"):
                return False
        except OSError:
            continue
    shutil.rmtree(folder, ignore_errors=True)
    return True


def measure_kernel(name, setup, repeats, log_dir, split=False):
    """One kernel's start, setup cells and trivial cells; with `split`, where its last setup
    cell's and last trivial cell's build time goes (cell_breakdown.py)."""
    result = {"kernel": name, "setup": [], "trivial": {}}
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(log_dir / f"{name}.kernel.log", "w"))
        started = time.monotonic()
        manager, client = stack.enter_context(started_kernel(log, cwd=NOTEBOOKS, ready_timeout=600))
        result["ready_seconds"] = round(time.monotonic() - started, 3)
        pid = evcxr_process(manager.provisioner.process.pid)
        for label, code in setup:
            before = cpu_seconds(pid)
            seconds = timed(client, code, timeout=2400)
            result["setup"].append(
                {
                    "cell": label,
                    "seconds": round(seconds, 3),
                    "since_start": round(time.monotonic() - started, 3),
                    "cpu": cpu_since(pid, before),
                }
            )
        result["background_analysis"] = wait_for_background_analysis(pid)
        result["build_folder"] = kernel_says(client, ":last_compile_dir")
        result["linker"] = kernel_says(client, ":linker").removeprefix("linker:").strip()
        if split:
            environment = kernel_environment(pid)
            result["breakdown"] = []
        if split and setup:
            # The last setup cell again by hand: how much of its time was cargo and rustc.
            label, seconds = result["setup"][-1]["cell"], result["setup"][-1]["seconds"]
            result["breakdown"].append(
                split_build(result, setup, label, seconds, min(repeats, 3), environment)
            )
        builds_before = cell_builds(result["build_folder"])
        before = cpu_seconds(pid)
        for label, code in TRIVIAL_CELLS.items():
            samples = [timed(client, code, timeout=600) for _ in range(repeats)]
            result["trivial"][label] = [round(s, 4) for s in samples]
        # CPU per trivial cell, on average.
        cells = repeats * len(TRIVIAL_CELLS)
        result["trivial_cpu"] = {
            key: round(value / cells, 4) for key, value in cpu_since(pid, before).items()
        }
        # How the trivial cells were built: by hpr-cell-cargo's replay, or by cargo.
        result["trivial_builds"] = {
            way: count - builds_before[way]
            for way, count in cell_builds(result["build_folder"]).items()
        }
        everything = [s for samples in result["trivial"].values() for s in samples]
        result["trivial_median"] = round(statistics.median(everything), 4)
        # The 9th decile, interpolated between order statistics as numpy's percentile does.
        result["trivial_p90"] = round(
            statistics.quantiles(everything, n=10, method="inclusive")[-1], 4
        )
        if split:
            last = list(TRIVIAL_CELLS)[-1]
            seconds = statistics.median(result["trivial"][last])
            result["breakdown"].append(
                split_build(result, setup, last, seconds, repeats, environment)
            )
    return result


def measure_paired(shared, repeats, log_dir):
    """Trivial cells of an hpr kernel and a plain kernel, alive together and taking turns.

    A second plain kernel first runs a cell that returns an error with `?`: after one, evcxr
    wraps every cell in its runtime (an error type, a variable store), as it does in every chapter
    after the shared setup cell, so that kernel compares hpr itself, like for like.

    Run one after the other, the kernels meet the machine at different speeds (it drifts by more
    than the 20 % the issue allows hpr), so here each trivial cell runs in the hpr kernel and at
    once in the plain one, after both kernels finished their background analysis: the drift
    weighs on both alike. Two orders: "repeated" runs each kind `repeats` times in a row, as the
    kernels above do (rustc's incremental cache then holds the whole cell), and "changing" takes
    the kinds in turn, so every cell differs from the one before, as when a reader writes new
    cells.
    """
    kernels = {}
    with contextlib.ExitStack() as stack:
        # hpr first: it takes the build folder the hpr kernels above left.
        for name, log_name, setup in (
            ("hpr", "hpr", [shared]),
            ("plain", "plain", []),
            ("plain after ?", "plain-after-question-mark", [QUESTION_MARK_CELL]),
        ):
            log = stack.enter_context(open(log_dir / f"paired-{log_name}.kernel.log", "w"))
            kernels[name] = stack.enter_context(
                started_kernel(log, cwd=NOTEBOOKS, ready_timeout=600)
            )
            for code in setup:
                timed(kernels[name][1], code, timeout=2400)
        for manager, _ in kernels.values():
            wait_for_background_analysis(evcxr_process(manager.provisioner.process.pid))
        orders = {
            "repeated": [label for label in TRIVIAL_CELLS for _ in range(repeats)],
            "changing": [label for _ in range(repeats) for label in TRIVIAL_CELLS],
        }
        samples = {
            order: {name: {label: [] for label in TRIVIAL_CELLS} for name in kernels}
            for order in orders
        }
        for order, labels in orders.items():
            for label in labels:
                for name, (_, client) in kernels.items():
                    seconds = timed(client, TRIVIAL_CELLS[label], timeout=600)
                    samples[order][name][label].append(round(seconds, 4))
    report = {}
    for order, by_kernel in samples.items():
        median = {
            name: statistics.median([s for cells in by_kind.values() for s in cells])
            for name, by_kind in by_kernel.items()
        }
        report[order] = {
            "trivial": by_kernel,
            "median": {name: round(value, 4) for name, value in median.items()},
            # hpr against each plain kernel, overall and by kind.
            "ratio": {
                base: round(median["hpr"] / median[base], 3) for base in median if base != "hpr"
            },
            "ratio_by_kind": {
                base: {
                    label: round(
                        statistics.median(by_kernel["hpr"][label])
                        / statistics.median(by_kernel[base][label]),
                        3,
                    )
                    for label in TRIVIAL_CELLS
                }
                for base in median
                if base != "hpr"
            },
        }
    return report


def paired_lines(paired):
    lines = []
    for order, result in paired.items():
        for base, ratio in result["ratio"].items():
            kinds = ", ".join(
                f"{label} {r:.2f}" for label, r in result["ratio_by_kind"][base].items()
            )
            lines.append(
                f"paired, {order} cells: hpr {result['median']['hpr']:.3f} s against {base} "
                f"{result['median'][base]:.3f} s, {ratio:.2f}× (by kind: {kinds})"
            )
    return "\n".join(lines)


def table(results):
    lines = [
        f"{'kernel':<15} {'ready':>6} {'setup cells: s (s since start)':<72} "
        f"{'analysis after':>14} {'trivial median':>14} {'p90':>7}"
    ]
    for r in results:
        setup = (
            ", ".join(
                f"{s['cell']} {s['seconds']:.1f} ({s['since_start']:.1f})" for s in r["setup"]
            )
            or "-"
        )
        lines.append(
            f"{r['kernel']:<15} {r['ready_seconds']:>5.1f}s {setup:<72} "
            f"{r['background_analysis']['seconds']:>13.1f}s "
            f"{r['trivial_median']:>13.3f}s {r['trivial_p90']:>6.3f}s"
        )
    if any("breakdown" in r for r in results):
        lines.append("")
        lines.append(
            f"{'where a cell goes':<15} {'cell':<16} {'crates':>6} "
            f"{'cargo, nothing to build':>24} {'cargo + rustc':>14} {'rustc alone':>12} "
            f"{'link alone':>11} {'whole cell':>11}"
        )
    for r in results:
        for b in r.get("breakdown", []):
            if "unavailable" in b:
                lines.append(f"{r['kernel']:<15} {b['cell']:<16} {b['unavailable']}")
            else:
                lines.append(
                    f"{r['kernel']:<15} {b['cell']:<16} {b['crates']:>6} "
                    f"{b['cargo_nothing_to_build']:>23.3f}s {b['cargo_cell_changed']:>13.3f}s "
                    f"{b['rustc_cell']:>11.3f}s {b['link']:>10.3f}s {b['cell_seconds']:>10.3f}s"
                )
    lines.append("")
    lines.append(
        f"{'CPU seconds':<15} {'cell':<16} {'wall':>7} {'evcxr (rust-analyzer)':>22} "
        f"{'cargo, rustc, linker':>21} {'cell code':>10}"
    )
    for r in results:
        rows = [(s["cell"], s["seconds"], s.get("cpu")) for s in r["setup"]]
        rows.append(("trivial, each", r["trivial_median"], r.get("trivial_cpu")))
        for cell, wall, cpu in rows:
            if cpu:
                lines.append(
                    f"{r['kernel']:<15} {cell:<16} {wall:>6.2f}s {cpu['evcxr']:>21.2f}s "
                    f"{cpu['tools']:>20.2f}s {cpu['cells']:>9.2f}s"
                )
    plain = next((r for r in results if r["kernel"] == "plain"), None)
    if plain:
        for r in results:
            if r is not plain:
                ratio = r["trivial_median"] / plain["trivial_median"]
                lines.append(
                    f"trivial cell with {r['kernel']}: {ratio:.2f}× the plain kernel's median"
                )
    for r in results:
        builds = r.get("trivial_builds", {})
        lines.append(
            f"{r['kernel']}: trivial cells built by replaying rustc {builds.get('replay', 0)}, "
            f"by cargo {builds.get('cargo', 0)}"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "target/bench/kernel.json")
    parser.add_argument(
        "--kernels", default="plain,hpr,hpr-restart,polars,polars-restart,polars-typed"
    )
    parser.add_argument(
        "--no-paired",
        action="store_true",
        help="skip the hpr and plain kernels whose trivial cells take turns",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also split each kernel's last setup and trivial cell's build by hand "
        "(cell_breakdown.py: cargo, rustc, the link)",
    )
    parser.add_argument(
        "--log",
        type=Path,
        help="add the run to this log as a dated section (make bench-kernel: docs/kernel-log.md)",
    )
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    # Checked before minutes of measuring: the section goes into an existing log.
    if args.log is not None and not args.log.is_file():
        parser.error(f"--log {args.log}: no such file (the log it adds to must exist)")
    shared, polars = setup_cells()
    plans = {
        "plain": [],
        "hpr": [("shared setup", shared)],
        "polars": [
            ("shared setup", shared),
            (":dep polars", polars + "\nuse polars::prelude::*;"),
            ("first DataFrame", FIRST_DATAFRAME),
        ],
    }
    plans["hpr-restart"] = plans["hpr"]
    plans["polars-restart"] = plans["polars"]
    plans["polars-typed"] = plans["polars"][:2] + [
        ("first DataFrame, typed", FIRST_DATAFRAME_TYPED)
    ]
    wanted = [k.strip() for k in args.kernels.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in plans]
    if unknown:
        parser.error(f"unknown kernels {unknown}; choose from {list(plans)}")
    log_dir = args.out.parent / "kernel-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    # New build folders, so that "hpr" measures a first kernel and "hpr-restart" the next one.
    BENCH_BUILDS.mkdir(parents=True, exist_ok=True)
    for earlier in BENCH_BUILDS.glob("run-*"):
        release_build_folder(earlier)
    build_dirs = tempfile.mkdtemp(prefix="run-", dir=BENCH_BUILDS)
    os.environ["HPR_EVCXR_BUILD_DIR"] = build_dirs
    results = []
    paired = None
    try:
        for name in wanted:
            print(f"==> {name} kernel", flush=True)
            results.append(
                measure_kernel(name, plans[name], args.repeats, log_dir, split=args.breakdown)
            )
        if not args.no_paired:
            print("==> hpr and plain kernels, cells taking turns", flush=True)
            paired = measure_paired(shared, args.repeats, log_dir)
    finally:
        if not release_build_folder(Path(build_dirs)):
            print(f"kept {build_dirs}: evcxr's cache holds crates built there", flush=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": sys.platform, **bench_log.facts(results)},
        "repeats": args.repeats,
        "results": results,
        "paired": paired,
    }
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(table(results))
    if paired:
        print(paired_lines(paired))
    print(f"\nwritten: {args.out}")
    if args.log:
        bench_log.add_to_log(args.log, bench_log.section(report, time.localtime()))
        print(f"added to {args.log}: write below its tables what they show, then commit it")


if __name__ == "__main__":
    main()
