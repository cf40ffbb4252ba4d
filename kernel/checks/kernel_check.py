"""What the kernel checks share: each drives one `rust` kernel through a real Jupyter client and
prints one JSON report, which the notebook harness (tests/src/lib.rs, `kernel_check`) asserts on.
"""

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import nbformat
from jupyter_client import KernelManager

ROOT = Path(__file__).resolve().parents[2]


def stat_fields(stat_file):
    """The fields of a /proc `stat` file after the command name in parentheses (which may hold
    spaces): the first is the state, field 3 in proc(5)'s numbering."""
    text = Path(stat_file).read_text()
    return text[text.rindex(")") + 2 :].split()


def build_slots():
    """The folder of the kernels' build-folder slots (hpr-kernel-guard's HPR_EVCXR_BUILD_DIR)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("HPR_EVCXR_BUILD_DIR") or cache / "hpr/evcxr-build")


def evcxr_process(pid):
    """The evcxr_jupyter process of the kernel Jupyter started as `pid`: the process itself, or
    the child it runs under hpr-kernel-guard (kernel/guard)."""

    def program(p):
        try:
            return Path(os.readlink(f"/proc/{p}/exe")).name
        except OSError:
            return ""

    if program(pid) == "evcxr_jupyter":
        return pid
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if program(child) == "evcxr_jupyter":
                return int(child)
    raise RuntimeError(f"no evcxr_jupyter runs as the kernel process {pid} or its child")


def shared_setup_cell():
    """The setup cell every chapter starts with, as the tour has it."""
    tour = nbformat.read(ROOT / "notebooks/00-tour.ipynb", as_version=4)
    return next(cell.source for cell in tour.cells if cell.cell_type == "code")


@contextmanager
def started_kernel(log, cwd=None, ready_timeout=300):
    """A started `rust` kernel, ready for cells: yields its manager and client, then shuts it
    down."""
    manager = KernelManager(kernel_name="rust")
    manager.start_kernel(cwd=cwd, stdout=log, stderr=log)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=ready_timeout)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(client, code, timeout=600):
    """Runs one cell: its status, the value it shows (text/plain), its error, if any, and what it
    wrote to stderr (where evcxr reports a panic, in a cell whose status is ok)."""
    result = {"value": None, "error": None, "stderr": ""}

    def hook(message):
        content = message["content"]
        if message["msg_type"] == "execute_result":
            result["value"] = content["data"].get("text/plain")
        elif message["msg_type"] == "error":
            result["error"] = content.get("evalue") or "\n".join(content.get("traceback", []))
        elif message["msg_type"] == "stream" and content.get("name") == "stderr":
            result["stderr"] += content["text"]

    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    result["status"] = reply["content"]["status"]
    return result


def print_report(check):
    """Prints `check(log)` as JSON, the kernel's output going to the file named by argv[1]."""
    with open(Path(sys.argv[1]) if len(sys.argv) > 1 else "/dev/null", "w") as log:
        print(json.dumps(check(log)))
