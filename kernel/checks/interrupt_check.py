"""What a kernel interrupt does to the evcxr kernel, observed through a real Jupyter client.

Defines a variable and a function, starts an endless loop, interrupts the kernel as JupyterLab's
stop button does, then runs three cells. Prints one JSON object: how long the interrupted cell
took to answer and with what status, and each later cell's status, value and error.
The notebook harness (tests/tests/kernel_interrupt.rs) asserts on it.
"""

import time

from kernel_check import print_report, run, started_kernel


def check(log):
    report = {}
    with started_kernel(log) as (manager, client):
        report["before"] = run(
            client, "let kept_value = 41u64;\nfn double(v: u64) -> u64 { v * 2 }"
        )
        client.execute("let mut n = 0u64;\nloop { n = std::hint::black_box(n + 1); }")
        time.sleep(3)  # the loop is compiled and running
        interrupted = time.monotonic()
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=120)
        report["interrupt"] = {
            "seconds": round(time.monotonic() - interrupted, 3),
            "status": reply["content"]["status"],
        }
        report["variable_after"] = run(client, "kept_value + 1")
        report["function_after"] = run(client, "double(21)")
        report["new_cell_after"] = run(client, "let fresh = 6u64; fresh * 7")
    return report


if __name__ == "__main__":
    print_report(check)
