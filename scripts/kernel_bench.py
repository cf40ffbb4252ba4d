"""How fast the evcxr kernel answers, measured through a real Jupyter client.

Kernels are started one after another in notebooks/ (so `../helpers` resolves as in the
chapters), on evcxr's warm compile cache, through the project's kernel launcher
(scripts/evcxr-kernel) with build folders in a fresh temporary directory:

  plain           no dependency: the reference for trivial cells
  hpr             the shared setup cell of every notebook, in a new build folder
  hpr-restart     the same in the folder the previous kernel left (a restarted kernel)
  polars          the shared setup cell, chapter 07's `:dep polars` cell and a first DataFrame
  polars-restart  the same, restarted

For each it records the time from kernel start to each setup cell's reply, then the reply time of
trivial cells (an expression, a one-line function, a println!), each repeated. It writes
target/bench/kernel.json and prints a table; `make bench-kernel` runs it.

Usage: kernel_bench.py [--repeats N] [--out FILE] [--kernels plain,hpr,hpr-restart,...]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL_CELLS = {
    "expression": "1 + 1",
    "one-line function": "fn add_one(x: u64) -> u64 { x + 1 }",
    "println!": 'println!("hello");',
}
FIRST_DATAFRAME = 'let frame = df!("a" => [1i64, 2, 3])?;\nframe.height()'


def setup_cells():
    """The shared setup cell (from the tour) and chapter 07's polars cell, as the chapters have them."""
    tour = nbformat.read(ROOT / "notebooks/00-tour.ipynb", as_version=4)
    shared = next(c.source for c in tour.cells if c.cell_type == "code")
    polars_nb = nbformat.read(ROOT / "notebooks/07-dataframes-polars.ipynb", as_version=4)
    polars = next(c.source for c in polars_nb.cells if c.cell_type == "code" and ":dep polars" in c.source)
    return shared, polars


def execute(client, code, timeout):
    """Runs one cell; returns its wall time in seconds, or raises with the kernel's error."""
    errors = []

    def on_output(message):
        content = message["content"]
        if message["msg_type"] == "error":
            errors.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))
        if message["msg_type"] == "stream" and content.get("name") == "stderr" and "panicked" in content["text"]:
            errors.append(content["text"])

    started = time.monotonic()
    reply = client.execute_interactive(code, timeout=timeout, output_hook=on_output)
    seconds = time.monotonic() - started
    if reply["content"]["status"] != "ok" or errors:
        raise RuntimeError(f"cell failed: {code[:80]!r}\n" + "\n".join(errors)[:2000])
    return seconds


def measure_kernel(name, setup, repeats, log_dir):
    log = open(log_dir / f"{name}.kernel.log", "w")
    manager = KernelManager(kernel_name="rust")
    started = time.monotonic()
    manager.start_kernel(cwd=str(ROOT / "notebooks"), stdout=log, stderr=log)
    client = manager.client()
    client.start_channels()
    result = {"kernel": name, "setup": [], "trivial": {}}
    try:
        client.wait_for_ready(timeout=600)
        result["ready_seconds"] = round(time.monotonic() - started, 3)
        for label, code in setup:
            seconds = execute(client, code, timeout=2400)
            result["setup"].append({"cell": label, "seconds": round(seconds, 3),
                                    "since_start": round(time.monotonic() - started, 3)})
        for label, code in TRIVIAL_CELLS.items():
            samples = [execute(client, code, timeout=600) for _ in range(repeats)]
            result["trivial"][label] = [round(s, 4) for s in samples]
        everything = [s for samples in result["trivial"].values() for s in samples]
        result["trivial_median"] = round(statistics.median(everything), 4)
        # The 9th decile, interpolated between order statistics as numpy's percentile does.
        result["trivial_p90"] = round(statistics.quantiles(everything, n=10, method="inclusive")[-1], 4)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        log.close()
    return result


def table(results):
    lines = [f"{'kernel':<15} {'ready':>6} {'setup cells: s (s since start)':<72} {'trivial median':>14} {'p90':>7}"]
    for r in results:
        setup = ", ".join(f"{s['cell']} {s['seconds']:.1f} ({s['since_start']:.1f})" for s in r["setup"]) or "-"
        lines.append(f"{r['kernel']:<15} {r['ready_seconds']:>5.1f}s {setup:<72} "
                     f"{r['trivial_median']:>13.3f}s {r['trivial_p90']:>6.3f}s")
    plain = next((r for r in results if r["kernel"] == "plain"), None)
    if plain:
        for r in results:
            if r is not plain:
                ratio = r["trivial_median"] / plain["trivial_median"]
                lines.append(f"trivial cell with {r['kernel']}: {ratio:.2f}× the plain kernel's median")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "target/bench/kernel.json")
    parser.add_argument("--kernels", default="plain,hpr,hpr-restart,polars,polars-restart")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    shared, polars = setup_cells()
    plans = {
        "plain": [],
        "hpr": [("shared setup", shared)],
        "polars": [("shared setup", shared), (":dep polars", polars + "\nuse polars::prelude::*;"),
                   ("first DataFrame", FIRST_DATAFRAME)],
    }
    plans["hpr-restart"] = plans["hpr"]
    plans["polars-restart"] = plans["polars"]
    wanted = [k.strip() for k in args.kernels.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in plans]
    if unknown:
        parser.error(f"unknown kernels {unknown}; choose from {list(plans)}")
    log_dir = args.out.parent / "kernel-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    # New build folders, so that "hpr" measures a first kernel and "hpr-restart" the next one.
    build_dirs = tempfile.mkdtemp(prefix="hpr-bench-builds-")
    os.environ["HPR_EVCXR_BUILD_DIR"] = build_dirs
    results = []
    try:
        for name in wanted:
            print(f"==> {name} kernel", flush=True)
            results.append(measure_kernel(name, plans[name], args.repeats, log_dir))
    finally:
        shutil.rmtree(build_dirs, ignore_errors=True)
    report = {"machine": {"cpus": os.cpu_count(), "platform": sys.platform}, "repeats": args.repeats,
              "results": results}
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(table(results))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
