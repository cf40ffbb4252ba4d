"""Builds hpr once in a kernel's build folder, as every chapter's setup cell would, so that no
chapter's first cell waits for it (setup runs this while nothing is measured).

Runs the shared setup cell in one `rust` kernel started in notebooks/ and exits; nothing when a
build folder holds an hpr library newer than hpr's sources and Cargo.lock. Exit status 1, with
the cell's error, if the cell fails.
"""

import sys
from pathlib import Path

# The kernel checks' helpers start a kernel and find its build folders (kernel/checks).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernel" / "checks"))
from kernel_check import ROOT, build_slots, run, shared_setup_cell, started_kernel  # noqa: E402


def built_since_last_change():
    """Whether a build folder holds an hpr library newer than hpr's sources and the lock file."""
    libraries = [*build_slots().glob("slot-*/target/*/debug/deps/libhpr-*.rlib")]
    if not libraries:
        return False
    sources = [ROOT / "Cargo.lock", ROOT / "helpers/Cargo.toml", *(ROOT / "helpers/src").rglob("*")]
    return max(p.stat().st_mtime for p in libraries) > max(p.stat().st_mtime for p in sources)


def main():
    if built_since_last_change():
        return 0
    with (
        open(ROOT / "target/warm-kernel.log", "w") as log,
        started_kernel(log, cwd=ROOT / "notebooks") as (_, client),
    ):
        result = run(client, shared_setup_cell(), timeout=1800)
    if result["status"] != "ok":
        print(
            f"the notebooks' setup cell failed in a new kernel: {result['error']}\n"
            f"(the kernel's log: {ROOT / 'target/warm-kernel.log'})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
