"""What is left of a kernel's processes and files after an interrupt or a kill, observed on real
`rust` kernels through a real Jupyter client.

In each case a cell starts an `hpr::Service` whose shell starts a child, a plain child, a child
in a session of its own (`setsid`), and in the interrupt case a Python baseline that runs until
stopped. Then the case's event: the stop button (interrupt), a kill of evcxr_jupyter alone (as
the OOM killer would), a kill of the kernel's process group (as Jupyter's restart does), or the
death of the process that started the kernel (its Jupyter server). Afterwards it looks for the
cell's processes, for any process that carries the kernel's tag, for the kernel's private folder
and whether its build-folder slot is free. Prints one JSON object, one entry per case; the
harness (tests/tests/kernel_processes.rs) asserts on it.
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from jupyter_client import KernelManager

from kernel_check import ROOT, evcxr_process, print_report, run, shared_setup_cell, stat_fields

# Each started program is known by the end of its command line, matched whole: `make test` runs
# chapters beside this check, and a rustc there names hashes in which "3001" may well appear.
PROGRAMS = {
    "service child": ["sleep", "3001"],
    "plain child": ["sleep", "3002"],
    "own session": ["sleep", "3003"],
    "python": ["-c", "import time\ntime.sleep(3004)"],
}
START = """
let service = hpr::Service::command("sleeper", "sh")
    .args(["-c", "sleep 3001 & echo started; wait"])
    .ready_when_line_starts_with("started")
    .start()?;
let plain = std::process::Command::new("sleep").arg("3002").spawn()?;
let own_session = std::process::Command::new("setsid").args(["sleep", "3003"]).spawn()?;
"""
PYTHON = 'hpr::python_run("import time\\ntime.sleep(3004)")?;'


def arguments(pid):
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")[:-1]


def cmdline(pid):
    return " ".join(arguments(pid))


def alive(pid):
    """Runs and is not a zombie."""
    try:
        return stat_fields(f"/proc/{pid}/stat")[0] != "Z"
    except OSError:
        return False


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def marked():
    """The cell's programs still running, by name."""
    found = set()
    for pid in pids():
        args = arguments(pid)
        for name, tail in PROGRAMS.items():
            if args[-len(tail) :] == tail and alive(pid):
                found.add(name)
    return sorted(found)


def environment(pid):
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(v.decode(errors="replace").split("=", 1) for v in raw.split(b"\0") if b"=" in v)


def runs(pid, program):
    try:
        return os.readlink(f"/proc/{pid}/exe") == program
    except OSError:
        return False


def tagged(tag):
    return [
        p
        for p in pids()
        if p != os.getpid() and alive(p) and environment(p).get("HPR_KERNEL_TAG") == tag
    ]


def kernel_facts(guard):
    """The tag, private folder and build folder the guard gave its kernel."""
    evcxr = evcxr_process(guard)
    env = environment(evcxr)
    return {
        "guard": guard,
        "evcxr": evcxr,
        "tag": env.get("HPR_KERNEL_TAG"),
        "work_dir": env.get("HPR_WORK_DIR"),
        "build_dir": env.get("EVCXR_TMPDIR"),
        "tmpdir": env.get("TMPDIR"),
        "slot": Path(env.get("EVCXR_TMPDIR", "") + ".lock").is_file(),
    }


def holders(path):
    """The processes that have `path` open."""
    found = []
    for pid in pids():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == str(Path(path).resolve()):
                    found.append(pid)
                    break
            except OSError:
                continue
    return found


def slot_free(facts):
    """Whether the kernel let go of its slot. `make test` starts other kernels meanwhile, which
    may take the slot the moment it is free, or lock it for a moment to trim it; a lock held by
    a process that is neither the kernel's guard nor carries its tag is theirs."""
    lock = Path(str(facts["build_dir"]) + ".lock")
    if not facts["slot"]:
        return None  # not a slot
    if not lock.exists():
        return True  # trimmed by another kernel, which removes only slots nobody holds
    with open(lock, "a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            ours = {facts["guard"], *tagged(facts["tag"])}
            return not any(pid in ours and alive(pid) for pid in holders(lock))
        fcntl.flock(file, fcntl.LOCK_UN)
    return True


def start(log, env=None):
    manager = KernelManager(kernel_name="rust")
    manager.start_kernel(
        cwd=ROOT / "notebooks", stdout=log, stderr=log, env={**os.environ, **(env or {})}
    )
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=300)
    return manager, client


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def aftermath(facts, seconds=60):
    """What is left once the kernel had `seconds` to clean up."""
    wait_for(
        lambda: not marked() and not tagged(facts["tag"]) and not Path(facts["work_dir"]).exists(),
        seconds,
    )
    return {
        "left_running": marked(),
        "tagged_left": [cmdline(p)[:80] for p in tagged(facts["tag"])],
        "work_dir_left": Path(facts["work_dir"]).exists(),
        "slot_free": slot_free(facts),
    }


def started_programs(manager, client, log, with_python):
    """Runs the setup cell and the cell that starts the programs; what runs once they started."""
    setup = run(client, shared_setup_cell())
    if setup["status"] != "ok":
        raise RuntimeError(f"the setup cell failed: {setup}")
    facts = kernel_facts(manager.provisioner.process.pid)
    if with_python:
        client.execute(START + PYTHON)
    else:
        result = run(client, START)
        if result["status"] != "ok":
            raise RuntimeError(f"the starting cell failed: {result}")
    wait_for(lambda: len(marked()) == len(PROGRAMS) - (0 if with_python else 1), 120)
    facts["running_before"] = marked()
    return facts


def interrupt_case(log):
    manager, client = start(log)
    try:
        facts = started_programs(manager, client, log, with_python=True)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=120)
        facts["interrupt_status"] = reply["content"]["status"]
        wait_for(lambda: not marked(), 10)
        facts["left_running"] = marked()
        # The kernel and the runner it started again for the next cell run evcxr_jupyter.
        program = os.readlink(f"/proc/{facts['evcxr']}/exe")
        facts["tagged_left"] = [
            cmdline(p)[:80] for p in tagged(facts["tag"]) if not runs(p, program)
        ]
        facts["after"] = run(client, "6 * 7")
        return facts
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def killed_case(log, kill):
    manager, client = start(log)
    try:
        facts = started_programs(manager, client, log, with_python=False)
        kill(facts)
        facts.update(aftermath(facts))
        facts["guard_running"] = alive(facts["guard"])
        return facts
    finally:
        client.stop_channels()
        try:
            manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - the kernel is gone already; nothing to shut down
            pass


def server_dies_case(log):
    """The kernel's starter is a separate Python process (standing for Jupyter's server), killed."""
    info = Path(log.name).with_suffix(".server.json")
    info.unlink(missing_ok=True)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(info)], stdout=log, stderr=log
    )
    try:
        if not wait_for(info.exists, 300):
            raise RuntimeError("the stand-in server never started its kernel")
        facts = json.loads(info.read_text())
        server.kill()
        server.wait()
        facts.update(aftermath(facts))
        facts["guard_running"] = alive(facts["guard"])
        return facts
    finally:
        server.kill()
        info.unlink(missing_ok=True)


def serve(info):
    """The stand-in server: starts a kernel and its programs, says so, and waits to be killed."""
    manager, client = start(sys.stdout)
    facts = started_programs(manager, client, sys.stdout, with_python=False)
    partial = Path(info + ".partial")
    partial.write_text(json.dumps(facts))
    partial.rename(info)
    time.sleep(3600)


def cold_case(log):
    """Without a slot: the build folder is inside the private folder, and goes with it."""
    manager, client = start(log, env={"HPR_EVCXR_BUILD_DIR": "none"})
    facts = kernel_facts(manager.provisioner.process.pid)
    facts["value"] = run(client, "6 * 7")["value"]
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    facts.update(aftermath(facts))
    log.flush()
    facts["said_why"] = "builds in a new folder, from scratch" in Path(log.name).read_text()
    return facts


def check(log):
    return {
        "interrupt": interrupt_case(log),
        "kill_evcxr": killed_case(log, lambda f: os.kill(f["evcxr"], signal.SIGKILL)),
        "kill_group": killed_case(log, lambda f: os.killpg(os.getpgid(f["guard"]), signal.SIGKILL)),
        "server_dies": server_dies_case(log),
        "cold": cold_case(log),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
    else:
        print_report(check)
