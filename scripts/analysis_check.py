"""What evcxr's rust-analyzer answers right after a cell adds dependencies, through a real client.

The patched evcxr (scripts/evcxr) analyses a new dependency graph in a background thread and
replies to the cell that added it before that analysis ends. This runs the chapters' shared
setup cell, then at once asks for completions (as JupyterLab's Tab does) of a method on a std
type and of an hpr function, then keeps a variable of an hpr type across cells. Prints one JSON
object; the notebook harness (tests/tests/evcxr_build.rs) asserts on it.
"""
import json
import sys
from pathlib import Path

import nbformat
from jupyter_client import KernelManager

ROOT = Path(__file__).resolve().parent.parent
COMPLETIONS = {
    "std method": "let numbers = vec![1u64, 2, 3];\nnumbers.ite",
    "hpr function": "hpr::random_u6",
}


def shared_setup_cell():
    tour = nbformat.read(ROOT / "notebooks/00-tour.ipynb", as_version=4)
    return next(cell.source for cell in tour.cells if cell.cell_type == "code")


def run(client, code, timeout=600):
    result = {"value": None, "error": None}

    def hook(message):
        content = message["content"]
        if message["msg_type"] == "execute_result":
            result["value"] = content["data"].get("text/plain")
        elif message["msg_type"] == "error":
            result["error"] = content.get("evalue") or "\n".join(content.get("traceback", []))

    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    result["status"] = reply["content"]["status"]
    return result


def complete(client, code, timeout=600):
    msg_id = client.complete(code, cursor_pos=len(code))
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return {"status": reply["content"]["status"], "matches": reply["content"].get("matches", [])}


def check(log):
    manager = KernelManager(kernel_name="rust")
    # In notebooks/, so that the setup cell's `../helpers` resolves as in the chapters.
    manager.start_kernel(cwd=str(ROOT / "notebooks"), stdout=log, stderr=log)
    client = manager.client()
    client.start_channels()
    report = {}
    try:
        client.wait_for_ready(timeout=600)
        report["setup"] = run(client, shared_setup_cell())
        report["completions"] = {label: complete(client, code) for label, code in COMPLETIONS.items()}
        report["define"] = run(client, "let grid = hpr::ndarray::Array2::<f64>::zeros((2, 3));")
        report["use"] = run(client, "grid.len()")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return report


def main():
    with open(Path(sys.argv[1]) if len(sys.argv) > 1 else "/dev/null", "w") as log:
        print(json.dumps(check(log)))


if __name__ == "__main__":
    main()
