"""What a type written in a cell does to the variables an evcxr kernel keeps, through a real client.

Two ways a written type used to break or corrupt a session (issue 29):

- `_` in a written type (an array length, a const generic argument) needs type inference, as an
  omitted type does. Kept as written, `[u8; _]` became the stored variable's type, and every later
  cell failed to compile, `2 + 2` included. Each such `let` is followed by `2 + 2` and a read of
  the variable.
- A struct redefined with other field types keeps its TypeId (every cell is the same crate, so
  `ctx::P` is the same path), so a value kept with the old definition was handed back as the new
  one: `u64::MAX` read as `-1`. Variables whose types mention a redefined type (directly, or
  through a type whose definition mentions it) are now lost, with evcxr's message for a variable
  whose type was redefined, while a variable of another type and a type defined again with the
  same text keep theirs.

Every cell's stream output is collected until a marker printed after it has arrived (evcxr can
deliver a cell's stderr after the cell has finished). Prints one JSON object; the notebook harness
(tests/tests/kernel_written_types.rs) asserts on it.
"""

import sys
import time
from pathlib import Path
from queue import Empty

from kernel_check import print_report, started_kernel

# The notebook runner's marker cell, which collects a cell's late output (harness/evcxr_client.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "harness"))
from evcxr_client import MARKER, MARKER_CELL  # noqa: E402

# Each list runs in a kernel of its own: before the fix, the first cell broke every later one.
INFERRED = {
    "length": "let a: [u8; _] = [1, 2, 3];",
    "after_length": "2 + 2",
    "read_length": "a[2]",
    "nested_length": "let grid: [[u8; _]; 2] = [[1, 2], [3, 4]];",
    "read_nested_length": "grid[1][1]",
    "const_generic": (
        "struct Ring<T, const N: usize>([T; N]);\nlet ring: Ring<u8, _> = Ring([5, 6, 7, 8]);"
    ),
    "read_const_generic": "ring.0.len()",
    "type_and_const": "let other: Ring<_, 3> = Ring([9u16, 10, 11]);",
    "read_type_and_const": "other.0[2]",
    # The types evcxr keeps: each as inference gave it, with no `_` left.
    "vars": ":vars",
}
REDEFINED = {
    "define": (
        "struct P { a: u64, b: u64 }\n"
        "struct Holder { p: P }\n"
        "let p = P { a: u64::MAX, b: 7 };\n"
        "let held = Holder { p: P { a: u64::MAX, b: 8 } };\n"
        "let kept = 41u64;"
    ),
    # The same text again: nothing changed, nothing is lost.
    "same_again": "struct P { a: u64, b: u64 }",
    "read_after_same": "(p.a == u64::MAX, p.b, held.p.b)",
    "redefine": "struct P { a: i64, b: u64 }",
    "read_redefined": "(p.a, p.b)",
    "read_holder": "held.p.b",
    "read_kept": "kept + 1",
    "fresh": "let p = P { a: -1, b: 7 };",
    "read_fresh": "(p.a, p.b)",
    # Redefined again in the cell that defines `p` again: the old value is lost, the new one kept.
    "redefine_and_let": "struct P { a: i32, b: u64 }\nlet p = P { a: -2, b: 9 };",
    "read_redefined_and_let": "(p.a, p.b)",
    # Other spaces and a comment, the same tokens: not a new definition.
    "respaced": "struct P {\n    a: i32, // the same tokens\n    b: u64\n}",
    "read_respaced": "(p.a, p.b)",
    # A constant used in a struct's definition changes the struct's layout.
    "define_buffer": (
        "const LEN: usize = 2;\nstruct Buffer { data: [u64; LEN] }\n"
        "let buffer = Buffer { data: [1, 2] };"
    ),
    "redefine_length": "const LEN: usize = 3;",
    "read_buffer": "buffer.data.len()",
}


def run_with_streams(client, code, timeout=600):
    """Runs one cell, then the marker cell: the cell's status, value, errors (one line each) and
    everything written to stdout and stderr until the markers, late lines included (evcxr may
    stamp a cell's late lines with the next request, so the marker cell's lines count as the
    cell's). A marker cell that fails to compile (as every cell did after `[u8; _]`) prints no
    marker: its errors are kept as `marker_error`, and the wait ends at its idle status."""
    result = {
        "status": None,
        "value": None,
        "error": None,
        "marker_error": None,
        "stdout": "",
        "stderr": "",
    }
    cell_id = client.execute(code, store_history=False, allow_stdin=False)
    marker_id = client.execute(MARKER_CELL, store_history=False, allow_stdin=False)
    markers_seen, idle = set(), set()
    deadline = time.monotonic() + timeout

    def done():
        markers_done = markers_seen == {"stdout", "stderr"} or result["marker_error"] is not None
        return markers_done and idle == {cell_id, marker_id}

    while not done():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no marker after {timeout} s for {code!r}: {result}")
        try:
            message = client.get_iopub_msg(timeout=remaining)
        except Empty:
            continue
        parent = message["parent_header"].get("msg_id")
        if parent not in (cell_id, marker_id):
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content["execution_state"] == "idle":
            idle.add(parent)
        elif kind == "stream":
            text = content["text"]
            if MARKER in text:
                markers_seen.add(content["name"])
                text = text.replace(MARKER + "\n", "")
            result[content["name"]] += text
        elif parent == cell_id and kind == "execute_result":
            result["value"] = content["data"].get("text/plain")
        elif kind == "error":
            key = "error" if parent == cell_id else "marker_error"
            error = content.get("evalue") or "\n".join(content.get("traceback", []))
            result[key] = error if result[key] is None else f"{result[key]}\n{error}"
    # The reply on the shell channel gives the cell's status.
    while result["status"] is None:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == cell_id:
            result["status"] = reply["content"]["status"]
    return result


def check(log):
    report = {}
    for name, cells in (("inferred", INFERRED), ("redefined", REDEFINED)):
        with started_kernel(log) as (_manager, client):
            report[name] = {label: run_with_streams(client, code) for label, code in cells.items()}
    return report


if __name__ == "__main__":
    print_report(check)
