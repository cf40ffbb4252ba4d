"""Executes notebooks through Jupyter with the evcxr kernel and says, per cell, what went wrong.

docs/harness.md describes this runner: how a cell fails, check mode (HPR_MODE), the time
estimates (harness/reference-timings.json, --write-reference) and what a run leaves. It stops a
notebook at its first failing cell, for one of these reasons:

  compile_error  an error output whose traceback is a compiler diagnostic
  error          any other error output
  panic          'panicked at' on stderr
  stderr         anything else on stderr (e.g. an error returned with `?`); its last lines
  timeout        the cell ran past its time limit
  kernel_death   the kernel or evcxr's child process died
  kernel_start   the kernel could not start
  display_fallback  an hpr result shown as a Debug dump: evcxr could not call its
                 `evcxr_display`, so the reader gets a struct dump instead of a table or plot
  results        a line of the notebook's results file is not a whole JSON record (a kernel
                 killed while writing it): the notebook fails, the next ones still run
  chart_layout   a chart the cell shows has two texts drawn over each other, or a bar drawn
                 flat though its value is not zero (harness/svg_layout.py)
  late_output    the marker cell that collects output printed after the cells finished did not
                 answer in time, so a late error or panic may be missing

A timing claim this run did not show (hpr's CLAIM_NOT_SEEN marker) is listed, never a failure;
cells tagged `raises-exception` may fail.

Usage:
  nbexec.py [--out DIR] [--results DIR] [--report FILE] [--logs DIR]
            [--cell-timeout S] [--setup-timeout S] NOTEBOOK...
  nbexec.py --write-reference RUN RESULTS
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError

import gallery
import history
import svg_layout
from evcxr_client import EvcxrClient

# Where the kernel keeps its build folders is the kernel's to say (kernel/checks/kernel_check.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernel" / "checks"))
from kernel_check import build_slots  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DIAGNOSTIC = re.compile(r"\[E\d{4}\]|^\s*error(\[E\d{4}\])?:|─\[ command_", re.MULTILINE)
# hpr's rendered types (hpr::RENDERED_TYPES) and error variants (hpr::HprError::VARIANT_NAMES);
# the harness's tests check that these lists equal the crate's. A cell whose plain-text value
# starts like `Timing { ...` or `Ok(Timing {` is one evcxr failed to render.
HPR_RENDERED_TYPES = [
    "Comparison",
    "Conditions",
    "Counters",
    "Figure",
    "HprError",
    "Limits",
    "Machine",
    "MemoryTable",
    "MemoryUsage",
    "Panel",
    "Profile",
    "ResultTable",
    "Results",
    "Scaling",
    "Sections",
    "Table",
    "Timing",
]
HPR_ERROR_VARIANTS = [
    "Empty",
    "NotFinite",
    "InvalidArgument",
    "Panicked",
    "Unsupported",
    "Python",
    "Draw",
    "Service",
    "Io",
    "MissingResults",
]
HPR_DEBUG_DUMP = re.compile(
    r"^(Ok\(|Err\()?(" + "|".join(HPR_RENDERED_TYPES + HPR_ERROR_VARIANTS) + r")\s*[{(]"
)
# hpr::claim's marker for a performance claim this run's numbers did not show (hpr::CLAIM_NOT_SEEN).
CLAIM_NOT_SEEN = "✘ not seen on this run:"
# Every section of a chapter ends with a measured sentence that starts like this: the chapter's
# headline numbers, gathered into the gallery.
HEADLINE = "What this shows:"
# hpr::claim's marker for a claim this run showed (hpr::CLAIM_SEEN).
CLAIM_SEEN = "✔ seen on this run:"
# hpr::Headline::record appends its results to the file this variable names (hpr::RESULTS_FILE_ENV).
RESULTS_FILE_ENV = "HPR_RESULTS_FILE"
# hpr::Results (chapter 13) reads every chapter's results from the folder this names
# (hpr::RESULTS_DIR_ENV).
RESULTS_DIR_ENV = "HPR_RESULTS_DIR"
# hpr::MODE_ENV: `check` runs every measurement at hpr's smallest settings; unset or `full`
# measures.
MODE_ENV = "HPR_MODE"
# Per-cell seconds of a reference `make run` (see the docstring), used when this machine has none.
REFERENCE_TIMINGS = Path(__file__).resolve().parent / "reference-timings.json"
# How long the marker cell that collects late output may take (a cell compile in the notebook's
# kernel: a second or two with polars loaded); HPR_LATE_OUTPUT_SECONDS sets it (for the harness).
LATE_OUTPUT_TIMEOUT = int(os.environ.get("HPR_LATE_OUTPUT_SECONDS", "60"))
KERNEL_DIED = re.compile(
    r"Subprocess terminated|Child process terminated|kernel died", re.IGNORECASE
)


def text_of(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join([output.get("evalue", "")] + output.get("traceback", []))
    return ""


def stream_text(cell, name):
    """Everything a cell wrote to one stream ("stdout" or "stderr")."""
    return "".join(
        o.get("text", "")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == name
    )


def classify(cell):
    """Returns (reason, message) for a failed cell, or None."""
    outputs = cell.get("outputs", [])
    stderr = stream_text(cell, "stderr")
    errors = [o for o in outputs if o.get("output_type") == "error"]
    for error in errors:
        text = ANSI.sub("", text_of(error))
        if KERNEL_DIED.search(text):
            return "kernel_death", text.strip()
    if "panicked at" in stderr:
        start = stderr.index("panicked at")
        return "panic", stderr[max(0, start - 40) : start + 400].strip()
    for error in errors:
        text = ANSI.sub("", text_of(error))
        reason = "compile_error" if DIAGNOSTIC.search(text) else "error"
        return reason, text.strip()
    if stderr.strip():
        # The end: an error returned with `?` is the last thing a cell prints.
        return "stderr", stderr.strip()[-500:]
    for output in outputs:
        data = output.get("data", {})
        plain = data.get("text/plain", "")
        plain = "".join(plain) if isinstance(plain, list) else plain
        if "text/html" not in data and HPR_DEBUG_DUMP.match(plain.strip()):
            return "display_fallback", plain.strip()[:300]
        html = data.get("text/html", "")
        html = "".join(html) if isinstance(html, list) else html
        problems = svg_layout.html_problems(html)
        if problems:
            return "chart_layout", "; ".join(problems)[:500]
    return None


def claims_seen(cell):
    """The lines of a cell's stdout that report a claim this run showed, without the marker."""
    return [
        line[len(CLAIM_SEEN) :].strip()
        for line in stream_text(cell, "stdout").splitlines()
        if line.startswith(CLAIM_SEEN)
    ]


def headlines(cell):
    """The measured "What this shows: ..." sentences a cell printed, without the prefix."""
    return [
        line[len(HEADLINE) :].strip()
        for line in stream_text(cell, "stdout").splitlines()
        if line.startswith(HEADLINE)
    ]


def title_of(nb, name):
    """The notebook's first markdown heading, or its file name."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return name


def claims_not_seen(cell):
    """The lines of a cell's stdout that report a performance claim this run did not show."""
    return [
        line.strip()
        for line in stream_text(cell, "stdout").splitlines()
        if line.startswith(CLAIM_NOT_SEEN)
    ]


def late_failure(nb, passed):
    """(number, index, reason, message) of the first passed cell that output arriving after it
    finished has made a failure, or None."""
    for number, index in passed:
        failure = classify(nb.cells[index])
        if failure:
            return (number, index, *failure)
    return None


def kill_process_group(client):
    """Makes sure nothing the kernel started (evcxr's child running user code) keeps a core busy."""
    try:
        process = client.km.provisioner.process
        os.killpg(os.getpgid(process.pid), signal.SIGKILL)
    except Exception:
        pass


def execute(
    path,
    cell_timeout,
    setup_timeout,
    progress,
    log_dir,
    results_file=None,
    expected=None,
    after_setup=None,
):
    """Runs one notebook; `expected` is the seconds each code cell took last time (or None).
    `after_setup` is called once the setup cell ran, before the first cell that measures."""
    nb = nbformat.read(path, as_version=4)
    name = Path(path).stem
    # The kernel inherits this environment: hpr's Headline::record appends to the file.
    if results_file:
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.unlink(missing_ok=True)
        os.environ[RESULTS_FILE_ENV] = str(results_file)
    else:
        os.environ.pop(RESULTS_FILE_ENV, None)
    client = EvcxrClient(
        nb,
        timeout=cell_timeout,
        startup_timeout=120,
        kernel_name="rust",
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": str(Path(path).parent.resolve())}},
        shutdown_kernel="immediate",
    )
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    report = {
        "notebook": str(path),
        "name": name,
        "title": title_of(nb, name),
        "mode": run_mode(),
        "cells": [],
        "status": "ok",
        "failure": None,
        "claims_not_seen": [],
        "claims_seen": [],
        "headlines": [],
        "results": [],
    }
    started = time.monotonic()
    # The kernel's own stderr is cargo's build log, and its stdout has evcxr's start-up chatter
    # ("No configuration file found, use the default configuration", from its :load_config): keep
    # both out of the progress output, which should stay short enough for a failure to be seen,
    # and point at the log when something fails. Cell outputs travel over Jupyter's messages,
    # not these streams.
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.kernel.log"
    report["kernel_log"] = str(log_path)

    def fail(number, index, reason, message):
        report["status"] = "failed"
        report["failure"] = {
            "cell": index,
            "number": number,
            "reason": reason,
            "message": message,
            "source": nb.cells[index].source[:300],
        }
        for entry in report["cells"]:
            if entry["cell"] == index:
                entry["status"] = reason

    # Cells that passed when they finished (allowed failures excluded): a line that reaches one of
    # them later (see evcxr_client) can still fail it.
    passed = []
    stopped = None  # (number, index, reason, message) of the cell the run stopped at
    try:
        with (
            open(log_path, "w") as kernel_log,
            client.setup_kernel(stdout=kernel_log, stderr=kernel_log),
        ):
            for number, index in enumerate(code_cells, 1):
                if number == 2 and after_setup:
                    after_setup()
                cell = nb.cells[index]
                # Loading dependencies compiles them: allow the first build its own, longer limit.
                client.timeout = setup_timeout if ":dep" in cell.source else cell_timeout
                cell_started = time.monotonic()
                failure = None
                try:
                    client.execute_cell(cell, index)
                    failure = classify(cell)
                except CellTimeoutError:
                    failure = ("timeout", f"the cell ran longer than {client.timeout} s")
                except DeadKernelError as error:
                    failure = ("kernel_death", str(error))
                seconds = time.monotonic() - cell_started
                allowed = "raises-exception" in cell.get("metadata", {}).get("tags", [])
                status = (
                    "ok"
                    if failure is None
                    else ("allowed " + failure[0] if allowed else failure[0])
                )
                report["cells"].append(
                    {
                        "cell": index,
                        "number": number,
                        "seconds": round(seconds, 2),
                        "status": status,
                    }
                )
                left = time_left(expected, number, len(code_cells))
                progress(
                    f"  [{name}] cell {number}/{len(code_cells)} (#{index}) {status} "
                    f"{seconds:.1f}s{left}"
                )
                stopped = late_failure(nb, passed)
                if stopped is None and failure and not allowed:
                    stopped = (number, index, *failure)
                if stopped:
                    break
                if failure is None:
                    passed.append((number, index))
            # A timed-out cell still runs, and a dead kernel answers nothing: no marker cell then.
            if report["cells"] and (
                stopped is None or stopped[2] not in ("timeout", "kernel_death")
            ):
                last_run = nb.cells[report["cells"][-1]["cell"]]
                if not client.collect_late_output(last_run, LATE_OUTPUT_TIMEOUT):
                    # Unconfirmed is not passed: a panic printed after its cell finished may be
                    # missing.
                    last = report["cells"][-1]
                    stopped = (
                        stopped
                        or late_failure(nb, passed)
                        or (
                            last["number"],
                            last["cell"],
                            "late_output",
                            f"evcxr's marker cell did not answer within {LATE_OUTPUT_TIMEOUT} s, "
                            "so what the cells printed after they finished (an error, a panic) "
                            "may be missing: this run cannot say the notebook passed",
                        )
                    )
                elif stopped:
                    # The failure's message, and even its reason, may have arrived late.
                    number, index = stopped[:2]
                    stopped = (number, index, *(classify(nb.cells[index]) or stopped[2:]))
                else:
                    stopped = late_failure(nb, passed)
            if stopped:
                fail(*stopped)
    except Exception as error:  # kernel missing, failed to start...
        report["status"] = "failed"
        report["failure"] = {
            "cell": None,
            "number": None,
            "reason": "kernel_start",
            "message": f"{type(error).__name__}: {error}",
            "source": "",
        }
    finally:
        kill_process_group(client)
    # Gathered after the run, when lines that arrived late have reached their cells.
    # Timing claims depend on the machine and its load: listed, never a failure.
    for entry in report["cells"]:
        cell = nb.cells[entry["cell"]]
        for line in claims_not_seen(cell):
            report["claims_not_seen"].append({"cell": entry["cell"], "text": line})
            progress(f"  [{name}] cell {entry['number']}: {line}")
        for line in headlines(cell):
            report["headlines"].append({"cell": entry["cell"], "text": line})
        for line in claims_seen(cell):
            report["claims_seen"].append({"cell": entry["cell"], "text": line})
    report["seconds"] = round(time.monotonic() - started, 1)
    if results_file and results_file.exists():
        torn = []
        for number, line in enumerate(results_file.read_text(encoding="utf-8").splitlines(), 1):
            try:
                if line.strip():
                    report["results"].append(json.loads(line))
            except ValueError:
                torn.append(number)
        if torn and report["status"] == "ok" and report["cells"]:
            last = report["cells"][-1]
            fail(
                last["number"],
                last["cell"],
                "results",
                f"line {torn[0]} of {results_file.name} is not a whole JSON record: {len(torn)} "
                "result(s) lost (was the kernel killed while writing?)",
            )
    return nb, report


def run_mode():
    """`check` or `full`, from HPR_MODE (hpr refuses any other value, and so does this)."""
    mode = os.environ.get(MODE_ENV) or "full"
    if mode not in ("check", "full"):
        sys.exit(f"{MODE_ENV}={mode!r}: leave it unset (or `full`) to measure, or `check`")
    return mode


def format_minutes(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def time_left(expected, number, count):
    """' · N cells left, about T' after cell `number` of `count`, from the last run's cells."""
    left = count - number
    if not left:
        return ""
    if not expected:
        return f" · {left} cells left"
    if len(expected) == count:
        seconds = sum(expected[number:])
    else:  # the notebook changed since: its average cell
        seconds = left * sum(expected) / len(expected)
    return f" · {left} cell{'s' if left > 1 else ''} left, about {format_minutes(seconds)}"


def built_crates(crates):
    """Those of `crates` that a kernel on this machine has built already: a library of each in a
    build-folder slot or in evcxr's compile cache. What is missing is a one-time build."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    slots = build_slots()
    folders = [
        *slots.glob("slot-*/target/debug/deps"),
        *slots.glob("slot-*/target/*/debug/deps"),
        *(cache / "evcxr").glob("*"),
    ]
    found = set()
    for folder in folders:
        for crate in crates - found:
            if next(folder.glob(f"lib{crate.replace('-', '_')}-*.rlib"), None):
                found.add(crate)
    return found


def notebook_crates(path):
    """The crates a notebook's `:dep` lines name."""
    nb = nbformat.read(path, as_version=4)
    return {
        m.group(1)
        for cell in nb.cells
        if cell.cell_type == "code"
        for m in re.finditer(r"^:dep\s+([A-Za-z0-9_-]+)", cell.source, re.MULTILINE)
    }


def reference_seconds(reference, run, name):
    """A notebook's per-cell seconds in one of the reference runs, or None."""
    return reference.get("runs", {}).get(run, {}).get("cell_seconds", {}).get(name)


def reference_estimate(name, crates, built, reference, mode):
    """Per-cell seconds for a notebook from the reference runs: its warm run in this mode (or in
    full mode), plus, for each cell, what the bare run spent more (one-time builds) while one of
    the notebook's crates is not built yet. Also the missing crates."""
    bare = reference_seconds(reference, "full-bare", name)
    full_warm = reference_seconds(reference, "full-warm", name)
    warm = reference_seconds(reference, f"{mode}-warm", name) or full_warm
    missing = sorted(crates - built)
    if warm is None:
        return bare, missing
    if (
        not missing
        or not bare
        or not full_warm
        or len(bare) != len(warm)
        or len(full_warm) != len(warm)
    ):
        return warm, missing
    return [w + max(0.0, b - f) for w, b, f in zip(warm, bare, full_warm, strict=True)], missing


# A cell that took this much longer in the reference bare run than warm built something once.
ONE_TIME_BUILD_SECONDS = 5.0


def after_one_time_builds(name, seconds, reference):
    """A run's per-cell seconds with its one-time builds taken out. A cell built something once
    when the reference bare run spent much longer on it than the reference warm run (polars' 11
    minutes), and this run too spent most of that difference on it: it gets the warm run's time."""
    bare = reference_seconds(reference, "full-bare", name)
    warm = reference_seconds(reference, "full-warm", name)
    if not bare or not warm or not len(bare) == len(warm) == len(seconds):
        return seconds
    return [
        w if b - w > ONE_TIME_BUILD_SECONDS and s > w + (b - w) / 2 else s
        for s, b, w in zip(seconds, bare, warm, strict=True)
    ]


def saved_estimate(name, saved, built, reference):
    """Per-cell seconds from a notebook's last run: as they were, unless that run built crates
    once (its `one_time_builds`) that are all built now, as a later run finds them."""
    seconds = saved["cell_seconds"]
    once = set(saved.get("one_time_builds") or [])
    if once and once <= built:
        return after_one_time_builds(name, seconds, reference)
    return seconds


def expected_timings(paths, results_dir, machine, mode):
    """Each notebook's per-cell seconds from its last run on this machine in this mode (less the
    one-time builds that run made), else from the reference runs (with the one-time builds this
    machine still lacks); where they came from; the crates still to build once; and, for each
    notebook, those of its crates that are not built yet."""
    reference = {}
    if REFERENCE_TIMINGS.exists():
        reference = json.loads(REFERENCE_TIMINGS.read_text(encoding="utf-8"))
    crates = {Path(path).stem: notebook_crates(path) | {"hpr"} for path in paths}
    built = built_crates(set().union(*crates.values())) if crates else set()
    timings, sources, missing = {}, set(), set()
    pending = {name: sorted(needed - built) for name, needed in crates.items()}
    for path in paths:
        name = Path(path).stem
        saved = None
        if results_dir and (results_dir / f"{name}.json").exists():
            try:
                saved = json.loads((results_dir / f"{name}.json").read_text(encoding="utf-8"))
            except ValueError:
                saved = None
        if (
            saved
            and saved.get("cell_seconds")
            and saved.get("machine", {}).get("key") == machine["key"]
            and saved.get("mode", "full") == mode
        ):
            timings[name] = saved_estimate(name, saved, built, reference)
            sources.add("the last run on this machine")
            continue
        seconds, lacking = reference_estimate(name, crates[name], built, reference, mode)
        if seconds:
            timings[name] = seconds
            sources.add(
                "the reference runs of "
                + ", ".join(
                    sorted({run.get("measured", "?") for run in reference.get("runs", {}).values()})
                )
            )
            missing.update(lacking)
    return timings, sources, missing, pending


def write_reference(run, results_dir):
    """Keeps one run's per-cell seconds in harness/reference-timings.json, as `run`: full-bare
    (a bare machine's first `make run`), full-warm (a `make run` after one) or check-warm (a
    check-mode run after one)."""
    mode = run.split("-")[0]
    cells, machines, dates = {}, set(), set()
    for path in sorted(results_dir.glob("*.json")):
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("mode", "full") != mode or not saved.get("cell_seconds"):
            sys.exit(f"{path}: not a {mode}-mode run that passed")
        cells[saved["name"]] = saved["cell_seconds"]
        machines.add(saved["machine"]["summary"])
        dates.add(saved["recorded"][:10])
    if not cells:
        sys.exit(f"{results_dir}: no results files")
    reference = (
        json.loads(REFERENCE_TIMINGS.read_text(encoding="utf-8"))
        if REFERENCE_TIMINGS.exists()
        else {}
    )
    reference.setdefault("runs", {})[run] = {
        "measured": ", ".join(sorted(dates)),
        "machine": "; ".join(sorted(machines)),
        "cell_seconds": cells,
    }
    REFERENCE_TIMINGS.write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")
    print(
        f"{REFERENCE_TIMINGS}: {run}, {len(cells)} notebooks, "
        f"{sum(map(sum, cells.values())) / 60:.1f} min"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--results",
        type=Path,
        help="where each notebook's results file goes "
        "(default: OUT/results with --out, none without)",
    )
    parser.add_argument("--report", type=Path)
    parser.add_argument("--logs", type=Path, help="where each kernel's stderr (its build log) goes")
    parser.add_argument("--cell-timeout", type=int, default=600)
    parser.add_argument("--setup-timeout", type=int, default=2400)
    parser.add_argument(
        "--write-reference",
        nargs=2,
        metavar=("RUN", "RESULTS"),
        help="keep a run's per-cell seconds in harness/reference-timings.json as RUN "
        "(full-bare, full-warm or check-warm), from its results folder",
    )
    args = parser.parse_args()
    if args.write_reference:
        run, results = args.write_reference
        if run not in ("full-bare", "full-warm", "check-warm"):
            parser.error(f"--write-reference {run}: one of full-bare, full-warm, check-warm")
        write_reference(run, Path(results))
        return 0
    if not args.notebooks:
        parser.error("name at least one notebook")

    # Without --logs or --out the kernel logs go to a temporary folder of this run, removed when
    # it ends: a failure then prints its log's last lines instead of a path that will be gone.
    own_logs = None if args.logs or args.out else Path(tempfile.mkdtemp(prefix="nbexec-"))
    log_dir = args.logs or (args.out or own_logs) / "kernel-logs"
    try:
        return run_notebooks(args, log_dir, own_logs is not None)
    finally:
        if own_logs:
            shutil.rmtree(own_logs, ignore_errors=True)


def run_notebooks(args, log_dir, logs_are_temporary):
    """Executes `args.notebooks` in turn, writes what `args` asks for, prints the summary, and
    returns the exit status."""

    def progress(line):
        print(line, flush=True)

    reports = []
    machine = history.machine_facts()
    results_dir = args.results or (args.out / "results" if args.out else None)
    if results_dir:
        # Absolute: the kernels run in their notebook's folder, not in this one.
        results_dir = results_dir.resolve()
        results_dir.mkdir(parents=True, exist_ok=True)
        os.environ[RESULTS_DIR_ENV] = str(results_dir)
    mode = run_mode()
    timings, sources, missing, pending = expected_timings(
        args.notebooks, results_dir, machine, mode
    )
    remaining = {Path(p).stem: sum(timings.get(Path(p).stem, [])) for p in args.notebooks}
    known = sum(Path(p).stem in timings for p in args.notebooks)
    estimate = (
        (
            f", about {format_minutes(sum(remaining.values()))} "
            f"(from {' and '.join(sorted(sources))}"
            + (
                f"; {len(args.notebooks) - known} without an estimate"
                if known < len(args.notebooks)
                else ""
            )
            + ")"
        )
        if known
        else ""
    )
    progress(
        f"{len(args.notebooks)} notebook{'s' if len(args.notebooks) > 1 else ''} "
        f"in {mode} mode{estimate}"
    )
    if missing:
        progress(
            "  including one-time builds of crates this machine has not built yet: "
            + ", ".join(sorted(missing))
        )
    # A notebook's HTML (about a second) is written while the next kernel starts and runs its
    # setup cell, which measures nothing; the next cell waits for it.
    exporter = ThreadPoolExecutor(max_workers=1)
    export = None

    def exported():
        if export:
            export.result()  # an export's error fails the run here

    for path in args.notebooks:
        name = Path(path).stem
        expected = timings.get(name)
        left = sum(remaining.values())
        progress(
            f"==> {path}"
            + (
                f" (about {format_minutes(sum(expected))}; the run: about "
                f"{format_minutes(left)} left)"
                if expected
                else ""
            )
        )
        remaining[name] = 0
        results_file = results_dir / f"{name}.jsonl" if results_dir else None
        nb, report = execute(
            path,
            args.cell_timeout,
            args.setup_timeout,
            progress,
            log_dir,
            results_file,
            expected,
            after_setup=exported,
        )
        exported()  # a notebook whose setup cell failed did not wait
        if args.out:
            export = exporter.submit(gallery.write_outputs, nb, report, args.out)
        if results_dir:
            # What this run built once, so that the next estimate leaves it out.
            report["one_time_builds"] = pending.get(name, [])
            history.save_results(report, machine, results_dir)
            for c in report["changes"]:
                progress(
                    f"  changed since the previous run: {c['name']}: {c['previous']:.4g} -> "
                    f"{c['value']:.4g} {c['unit']} ({c['change']:+.0%}, noise {c['noise']:.0%})"
                )
        if report["failure"]:
            f = report["failure"]
            progress(
                f"  FAILED at cell {f['number']} (#{f['cell']}): {f['reason']}\n    "
                + f["message"][:800].replace("\n", "\n    ")
            )
            if logs_are_temporary:
                log = Path(report["kernel_log"])
                tail = log.read_text(errors="replace").splitlines()[-20:] if log.exists() else []
                progress("  the kernel log's last lines:\n    " + "\n    ".join(tail))
            else:
                progress(f"  kernel log: {report['kernel_log']}")
        reports.append(report)
    exported()
    exporter.shutdown()
    if args.out:
        earlier = gallery.earlier_runs(reports, results_dir)
        shown = sorted(reports + earlier, key=lambda r: r["name"])
        gallery.write_index(shown, args.out, machine, CLAIM_NOT_SEEN)
    if args.report:
        args.report.write_text(json.dumps(reports, indent=1), encoding="utf-8")

    width = max(len(r["name"]) for r in reports)
    print(f"\n{'notebook':<{width}}  cells  seconds  status")
    for r in reports:
        missed = len(r["claims_not_seen"])
        note = f" ({missed} timing claim{'s' if missed > 1 else ''} not seen)" if missed else ""
        print(f"{r['name']:<{width}}  {len(r['cells']):>5}  {r['seconds']:>7}  {r['status']}{note}")
    if args.out:
        print(f"\nexecuted notebooks and HTML: {args.out / 'index.html'}")
    return 1 if any(r["status"] != "ok" for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
