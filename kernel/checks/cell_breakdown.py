"""Where a trivial cell's build time goes: `kernel_bench.py --breakdown` re-runs by hand, in the
kernel's own build folder, what evcxr's cargo ran for a cell.

It measures cargo with nothing to build (it checks every crate of the dependency graph), cargo
after the cell's source changed (cargo and rustc), rustc alone for the cell, and the link alone
(the command rustc prints with `--print link-args`, run on the object files `-C save-temps`
keeps). The rest of a cell's time is evcxr's own (rust-analyzer, writing the source, loading
the library, running it).

It rebuilds evcxr 0.22's cargo command by hand (its Config::cargo_command), so a newer evcxr may
build differently: then a dependency would rebuild, and the split says it is unavailable instead
of measuring that.
"""

import functools
import json
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def median_seconds(action, repeats):
    samples = []
    for _ in range(repeats):
        started = time.monotonic()
        action()
        samples.append(time.monotonic() - started)
    return round(statistics.median(samples), 4)


def tool_path(tool):
    found = subprocess.run(["rustup", "which", tool], capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else shutil.which(tool)


def kernel_environment(pid):
    """The kernel's own environment (the launcher adds to it), read from /proc where there is
    one."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return dict(os.environ)
    return dict(
        item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item
    )


@functools.cache
def toolchain():
    """rustc and cargo by full path, the standard library evcxr names, and the host target."""
    rustc = tool_path("rustc")
    libdir = subprocess.run(
        [rustc, "--print", "target-libdir"], capture_output=True, text=True
    ).stdout.strip()
    libstd = next(Path(libdir).glob("libstd-*.so"))
    version = subprocess.run([rustc, "-vV"], capture_output=True, text=True).stdout
    host = next(
        line.split(": ", 1)[1] for line in version.splitlines() if line.startswith("host: ")
    )
    return rustc, tool_path("cargo"), libstd, host


def evcxr_cargo(folder, setup, linker, base_env):
    """The cargo command and environment evcxr 0.22 builds a cell with (its Config::cargo_command),
    so that re-running it finds every dependency fresh instead of rebuilding it."""
    rustc, cargo, libstd, target = toolchain()
    flags = ["-Cprefer-dynamic"] + (["-Clink-arg=-fuse-ld=lld"] if linker == "lld" else [])
    env = dict(
        base_env,
        CARGO_TARGET_DIR="target",
        CARGO_BUILD_BUILD_DIR="target",
        RUSTC=rustc,
        RUSTFLAGS=" ".join(flags),
    )
    for _, code in setup:
        for line in code.splitlines():
            if line.startswith(":build_env "):
                key, _, value = line.removeprefix(":build_env ").strip().partition("=")
                env[key] = value
    env["EVCXR_CORE_EXTERN"] = f"core={libstd}"
    env.pop("RUSTC_WRAPPER", None)
    # The compile cache is on through the launcher's hpr-cell-cargo (kernel/cell-cargo), or by
    # `:cache`.
    by_launcher = (
        bool(base_env.get("HPR_EVCXR_BIN"))
        and base_env.get("HPR_EVCXR_CACHE_MIB", "").strip() != "0"
    )
    if by_launcher or any(":cache" in code for _, code in setup):
        # With its compile cache on, evcxr is rustc's wrapper.
        evcxr = (
            base_env.get("HPR_EVCXR_BIN")
            or shutil.which("evcxr_jupyter")
            or str(Path.home() / ".cargo/bin/evcxr_jupyter")
        )
        env.update(
            EVCXR_CACHE_ENABLED="1",
            EVCXR_TARGET_DIR=str(Path(folder) / "target"),
            EVCXR_RUSTC_WRAPPER="1",
            RUSTC_WRAPPER=evcxr,
        )
    cargo = [cargo]
    if linker == "mold":
        cargo = ["mold", "-run"] + cargo
    return cargo, ["build", "--target", target, "--message-format=json"], env


def breakdown(result, setup, repeats, environment):
    """Where a trivial cell's build time goes, measured in the kernel's own build folder."""
    folder = Path(result["build_folder"])
    cargo, build, env = evcxr_cargo(folder, setup, result["linker"], environment)
    source = folder / "src/lib.rs"

    def cargo_build(extra=()):
        done = subprocess.run(
            cargo + build + list(extra), cwd=folder, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"cargo build failed in {folder}:\n{done.stderr[-2000:]}")
        return done

    # Guard: a different environment would rebuild every dependency (polars: many minutes).
    first = subprocess.run(
        cargo + build, cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    artifacts = [json.loads(line) for line in first.stdout.splitlines() if line.startswith("{")]
    artifacts = [a for a in artifacts if a.get("reason") == "compiler-artifact"]
    rebuilt = [
        a["target"]["name"]
        for a in artifacts
        if not a.get("fresh") and a["target"]["name"] != "ctx"
    ]
    if first.returncode != 0 or rebuilt:
        return {"unavailable": f"evcxr's build could not be reproduced (rebuilt: {rebuilt[:5]})"}
    crates = len(artifacts)
    nothing_to_build = median_seconds(cargo_build, repeats)
    cell_changed = median_seconds(lambda: (source.touch(), cargo_build()), repeats)
    source.touch()
    verbose = cargo_build(["-v"]).stderr
    line = next(
        shown
        for shown in verbose.splitlines()
        if "Running `" in shown and "--crate-name ctx" in shown
    )
    words = shlex.split(line.split("Running `", 1)[1].rstrip("`"))
    rustc_words = words[words.index(next(w for w in words if w.endswith("rustc"))) :]
    rustc_alone = median_seconds(
        lambda: (
            source.touch(),
            subprocess.run(rustc_words, cwd=folder, capture_output=True, check=True),
        ),
        repeats,
    )
    # The link alone: rustc prints its linker command; -C save-temps keeps the files it names.
    temps = Path(tempfile.mkdtemp(prefix="hpr-bench-link-"))
    try:
        out_dir = rustc_words.index("--out-dir") + 1
        linking = list(rustc_words)
        linking[out_dir] = str(temps)
        linking = [
            w if not w.startswith("incremental=") else f"incremental={temps}/incremental"
            for w in linking
        ]
        printed = (
            subprocess.run(
                linking + ["-C", "save-temps", "--print", "link-args"],
                cwd=folder,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        link_words, link_env = shlex.split(printed), dict(os.environ)
        while "=" in link_words[0] and not link_words[0].startswith("-"):
            key, _, value = link_words.pop(0).partition("=")
            link_env[key] = value
        link_alone = median_seconds(
            lambda: subprocess.run(link_words, env=link_env, capture_output=True, check=True),
            repeats,
        )
    finally:
        shutil.rmtree(temps, ignore_errors=True)
    return {
        "crates": crates,
        "cargo_nothing_to_build": nothing_to_build,
        "cargo_cell_changed": cell_changed,
        "rustc_cell": rustc_alone,
        "link": link_alone,
    }


def split_build(result, setup, cell, cell_seconds, repeats, environment):
    """`breakdown` for the cell the kernel compiled last, or why it could not be measured."""
    try:
        split = breakdown(result, setup, repeats, environment)
    except (RuntimeError, OSError, StopIteration, ValueError, subprocess.SubprocessError) as error:
        split = {"unavailable": f"{type(error).__name__}: {str(error)[:300]}"}
    return {"cell": cell, "cell_seconds": round(cell_seconds, 4), **split}
