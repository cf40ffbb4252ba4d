"""What evcxr's rust-analyzer answers right after a cell adds dependencies, through a real client.

The patched evcxr (kernel/evcxr) analyses a new dependency graph in a background thread and
replies to the cell that added it before that analysis ends. This runs the chapters' shared
setup cell, then at once asks for completions (as JupyterLab's Tab does) of a method on a std
type and of an hpr function, then keeps a variable of an hpr type across cells. From the setup
cell on, until it has seen them, it reads the nice value of the threads that run the analysis
(none seen is reported as such, not as a pass). Last, it keeps a
variable whose type the cell writes out in full, which evcxr then keeps as written without asking
rust-analyzer, and lists the kernel's variables with `:vars`. Prints one JSON object; the
notebook harness (tests/tests/kernel_evcxr_build.rs) asserts on it.
"""

import threading
import time
from pathlib import Path

from kernel_check import (
    ROOT,
    evcxr_process,
    print_report,
    run,
    shared_setup_cell,
    started_kernel,
    stat_fields,
)

COMPLETIONS = {
    "std method": "let numbers = vec![1u64, 2, 3];\nnumbers.ite",
    "hpr function": "hpr::random_u6",
}


def complete(client, code, timeout=600):
    msg_id = client.complete(code, cursor_pos=len(code))
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return {
                "status": reply["content"]["status"],
                "matches": reply["content"].get("matches", []),
            }


def watch_priming(pid, seen, stop):
    """Adds the nice value of every analysis thread seen to `seen` (by thread), every 20 ms,
    until `stop` is set and at least one was seen, or for 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (stop.is_set() and seen):
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                if (task / "comm").read_text().strip() == "evcxr-priming":
                    seen[task.name] = int(stat_fields(task / "stat")[16])
            except OSError:
                pass  # the thread ended meanwhile
        time.sleep(0.02)


def check(log):
    report = {}
    # In notebooks/, so that the setup cell's `../helpers` resolves as in the chapters.
    with started_kernel(log, cwd=str(ROOT / "notebooks"), ready_timeout=600) as (manager, client):
        # The analysis starts while the setup cell runs and ends seconds later: watch it from the
        # cell's start, so that a check after it has ended cannot pass for want of threads.
        seen, stop = {}, threading.Event()
        watcher = threading.Thread(
            target=watch_priming, args=(evcxr_process(manager.provisioner.process.pid), seen, stop)
        )
        watcher.start()
        report["setup"] = run(client, shared_setup_cell())
        stop.set()
        watcher.join()
        report["priming_nice"] = sorted(seen.values())
        report["completions"] = {
            label: complete(client, code) for label, code in COMPLETIONS.items()
        }
        report["define"] = run(client, "let grid = hpr::ndarray::Array2::<f64>::zeros((2, 3));")
        report["use"] = run(client, "grid.len()")
        # rust-analyzer would name this type `String`, as `:vars` shows for `grid`'s.
        report["written"] = run(
            client, 'let label: std::string::String = format!("{}", grid.len());'
        )
        report["vars"] = run(client, ":vars")
    return report


if __name__ == "__main__":
    print_report(check)
