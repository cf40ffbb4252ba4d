"""A run of the kernel bench as a dated section of docs/kernel-log.md, so that nobody copies its
numbers by hand: `make bench-kernel` adds one, above the earlier ones (the log is newest first).
The tables are the run's; what they show is for the person who ran it to write below them.

`section(report, when)` needs no kernel: the tests give it a made-up report.
"""

import os
import platform
import subprocess
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[2]
# The bench's kernels, as the log names them.
KERNELS = {
    "plain": "plain (no dependency)",
    "hpr": "hpr, new build folder",
    "hpr-restart": "hpr, restarted",
    "polars": "polars, first in the folder",
    "polars-restart": "polars, restarted",
    "polars-typed": "polars, restarted, type written",
}
# Cells and kernels whose names are code, written as code.
AS_CODE = {
    ":dep polars": "`:dep polars`",
    "println!": "`println!`",
    "plain after ?": "plain after `?`",
}


def shown(name):
    return AS_CODE.get(name, KERNELS.get(name, name))


def seconds(value, digits=3):
    return f"{value:.{digits}f} s"


def table(header, rows):
    """A markdown table: the header's cells, then one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    # A `|` inside a cell would end it.
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def facts(results):
    """The machine, the toolchain and the commit the run measured, in one line each."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass

    def output(*command):
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout.strip()

    linkers = sorted({r["linker"] for r in results if r.get("linker")})
    commit = output("git", "rev-parse", "--short", "HEAD") or "unknown"
    if output("git", "status", "--porcelain", "--untracked-files=no"):
        commit += ", with uncommitted changes"
    return {
        "summary": (
            f"{cpu}, {os.cpu_count()} logical cores; {platform.system()} {platform.release()}; "
            f"{output('rustc', '--version') or 'rustc not found'}; "
            f"the kernels' linker: {', '.join(linkers) or 'unknown'}"
        ),
        "commit": commit,
    }


def kernel_rows(results):
    plain = next((r for r in results if r["kernel"] == "plain"), None)
    for r in results:
        setup = ", ".join(
            f"{shown(s['cell'])} {s['seconds']:.1f} ({s['since_start']:.1f})" for s in r["setup"]
        )
        cpu = r.get("trivial_cpu") or {}
        builds = r.get("trivial_builds") or {}
        yield [
            shown(r["kernel"]),
            seconds(r["ready_seconds"], 1),
            setup or "–",
            seconds(r["background_analysis"]["seconds"], 1),
            seconds(r["trivial_median"]),
            seconds(r["trivial_p90"]),
            f"{r['trivial_median'] / plain['trivial_median']:.2f}" if plain else "–",
            seconds(cpu.get("evcxr", 0)),
            seconds(cpu.get("tools", 0)),
            f"{builds.get('replay', 0)}, {builds.get('cargo', 0)}",
        ]


def by_kind_rows(results):
    for r in results:
        yield [shown(r["kernel"]), *(seconds(median(s)) for s in r["trivial"].values())]


def paired_rows(paired, bases):
    for order, result in paired.items():
        row = [order, seconds(result["median"]["hpr"])]
        for base in bases:
            kinds = ", ".join(f"{r:.2f}" for r in result["ratio_by_kind"][base].values())
            row += [seconds(result["median"][base]), f"{result['ratio'][base]:.2f} ({kinds})"]
        yield row


def cpu_rows(results):
    for r in results:
        # A trivial cell takes milliseconds: one more digit.
        cells = [(s["cell"], s["seconds"], s.get("cpu"), 2) for s in r["setup"]]
        cells.append(("trivial cell, each", r["trivial_median"], r.get("trivial_cpu"), 3))
        for cell, wall, cpu, digits in cells:
            if cpu:
                yield [
                    shown(r["kernel"]),
                    shown(cell),
                    *(seconds(v, digits) for v in (wall, cpu["evcxr"], cpu["tools"], cpu["cells"])),
                ]


def breakdown_rows(results):
    for r in results:
        for b in r.get("breakdown", []):
            if "unavailable" in b:
                yield [shown(r["kernel"]), shown(b["cell"]), f"unavailable: {b['unavailable']}"]
                continue
            yield [
                shown(r["kernel"]),
                shown(b["cell"]),
                b["crates"],
                seconds(b["cargo_nothing_to_build"]),
                seconds(b["cargo_cell_changed"]),
                seconds(b["rustc_cell"]),
                seconds(b["link"]),
                seconds(b["cell_seconds"]),
            ]


def section(report, when):
    """The run (kernel_bench.py's report) as a log section dated `when`, a time.struct_time."""
    results, paired = report["results"], report.get("paired")
    kinds = list(results[0]["trivial"]) if results else []
    parts = [
        f"## {when.tm_year:04}-{when.tm_mon:02}-{when.tm_mday:02}: `make bench-kernel` "
        f"({when.tm_hour:02}:{when.tm_min:02})",
        f"Written by `kernel/checks/kernel_bench.py` at commit {report['machine']['commit']}: "
        f"{report['repeats']} run{'s' if report['repeats'] > 1 else ''} of each trivial cell.\n"
        f"The machine: {report['machine']['summary']}.",
        table(
            [
                "kernel",
                "ready",
                "setup cells: seconds (seconds since kernel start)",
                "analysis after",
                "trivial cell, median",
                "p90",
                "against plain",
                "CPU per trivial cell: evcxr",
                "cargo, rustc, linker",
                "trivial cells replayed, built by cargo",
            ],
            kernel_rows(results),
        ),
        "**By kind** (medians).",
        table(["kernel", *map(shown, kinds)], by_kind_rows(results)),
    ]
    if paired:
        bases = [name for name in next(iter(paired.values()))["median"] if name != "hpr"]
        by_kind = ", ".join(map(shown, kinds))
        header = ["order", "hpr"]
        for base in bases:
            header += [shown(base), f"ratio (by kind: {by_kind})"]
        parts += [
            "**Side by side.** An hpr kernel and plain ones alive together, each trivial cell\n"
            "run in one and at once in the others.",
            table(header, paired_rows(paired, bases)),
        ]
    parts += [
        "**Where the setup cells' time goes** (CPU seconds).",
        table(
            [
                "kernel",
                "cell",
                "wall",
                "evcxr (with rust-analyzer)",
                "cargo, rustc, linker",
                "cell code",
            ],
            cpu_rows(results),
        ),
    ]
    if any(r.get("breakdown") for r in results):
        parts += [
            "**Where a cell's time goes** (`--breakdown`).",
            table(
                [
                    "kernel",
                    "cell",
                    "crates",
                    "cargo, nothing to build",
                    "cargo + rustc",
                    "rustc alone",
                    "link alone",
                    "whole cell",
                ],
                breakdown_rows(results),
            ),
        ]
    return "\n\n".join(parts) + "\n"


def add_to_log(log, text):
    """Puts a section above the log's first dated section, or at its end when it has none."""
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    before, after = "".join(lines[:first]), "".join(lines[first:])
    if before and not before.endswith("\n\n"):
        before = before.rstrip("\n") + "\n\n"
    log.write_text(before + text + ("\n" + after if after else ""), encoding="utf-8")
