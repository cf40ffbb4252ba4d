"""What a kernel interrupt does to the evcxr kernel, observed through a real Jupyter client.

Defines a variable and a function, starts an endless loop, interrupts the kernel as JupyterLab's
stop button does, then runs three cells. Prints one JSON object: how long the interrupted cell
took to answer and with what status, and each later cell's status, value and error.
The notebook harness (tests/tests/interrupt.rs) asserts on it.
"""
import json
import sys
import time
from pathlib import Path

from jupyter_client import KernelManager


def run(client, code, timeout=300):
    result = {"code": code, "value": None, "error": None}

    def hook(message):
        content = message["content"]
        if message["msg_type"] == "execute_result":
            result["value"] = content["data"].get("text/plain")
        elif message["msg_type"] == "error":
            result["error"] = content.get("evalue") or "\n".join(content.get("traceback", []))

    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    result["status"] = reply["content"]["status"]
    return result


def main():
    with open(Path(sys.argv[1]) if len(sys.argv) > 1 else "/dev/null", "w") as log:
        print(json.dumps(check(log)))


def check(log):
    manager = KernelManager(kernel_name="rust")
    manager.start_kernel(stdout=log, stderr=log)
    client = manager.client()
    client.start_channels()
    report = {}
    try:
        client.wait_for_ready(timeout=300)
        report["before"] = run(client, "let kept_value = 41u64;\nfn double(v: u64) -> u64 { v * 2 }")
        client.execute("let mut n = 0u64;\nloop { n = std::hint::black_box(n + 1); }")
        time.sleep(3)  # the loop is compiled and running
        interrupted = time.monotonic()
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=120)
        report["interrupt"] = {"seconds": round(time.monotonic() - interrupted, 3),
                               "status": reply["content"]["status"]}
        report["variable_after"] = run(client, "kept_value + 1")
        report["function_after"] = run(client, "double(21)")
        report["new_cell_after"] = run(client, "let fresh = 6u64; fresh * 7")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return report


if __name__ == "__main__":
    main()
