#!/usr/bin/env python3
"""Keep helpers/kernel-pins in step with the notebooks' `:dep` lines.

A notebook kernel resolves its dependencies afresh (the launcher deletes the build folder's
Cargo.lock, and evcxr rewrites it for every `:dep`), so a `:dep polars = "=0.55.2"` line alone
takes the newest patch release of every crate below polars. Each patch release on crates.io
then changes the `-C metadata` hash of every crate above it, misses evcxr's compile cache and
rebuilds polars cold (13 to 19 minutes here).

`hpr-kernel-pins` lists exact `=` versions for a platform that never matches (`cfg(any())`):
nothing of it is built, yet its requirements take part in the resolution and fix each version.
hpr depends on it, which pins every crate of the shared setup cell. A chapter with more `:dep`
lines adds, in the same cell, `:dep hpr-kernel-pins = { path = "../helpers/kernel-pins",
features = [...] }` with a feature per crate it adds; the feature pins that crate's graph. Pins
only name crates the kernel builds anyway: a pin beyond them would cost every cell's cargo run
time (all crates pinned for every kernel: 0.21 s instead of 0.10 s per trivial cell).

    kernel_pins.py            check the pins and the notebooks' pins lines (exit 1 on a problem)
    kernel_pins.py --write    pin what is missing, drop what no kernel builds
    kernel_pins.py --upgrade  forget the pins and take the newest versions (a cold rebuild)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PINS = ROOT / "helpers" / "kernel-pins" / "Cargo.toml"
CRATE = "hpr-kernel-pins"
HPR_LINE = ':dep hpr = { path = "../helpers" }'
TABLE = "[target.'cfg(any())'.dependencies]"
HEADER = f"""\
# Written by scripts/kernel_pins.py --write from the notebooks' :dep lines: edit those, not this.
[package]
name = "{CRATE}"
version = "0.0.0"
edition = "2021"
publish = false
description = "Never built: fixes the version of every crate the hpr notebooks' kernels build."
license = "MIT OR Apache-2.0"

[lib]
path = "lib.rs"
"""

Crate = tuple[str, str]  # (name, version)


def pins_line(features: list[str]) -> str:
    """The `:dep` line a chapter adds for its own crates."""
    listed = ", ".join(f'"{feature}"' for feature in features)
    return f':dep {CRATE} = {{ path = "../helpers/kernel-pins", features = [{listed}] }}'


def dep_name(line: str) -> str:
    return line.removeprefix(":dep ").split("=", 1)[0].strip()


def feature_name(line: str) -> str:
    """The pins feature of a chapter's `:dep` line: its crate's name, or for hpr with features
    (chapter 02's `sampling`), `hpr-` and their names."""
    name = dep_name(line)
    if name == "hpr":
        return "-".join(["hpr"] + re.findall(r'"([^"]+)"', line.split("features", 1)[-1]))
    return name


def is_chapter_line(line: str) -> bool:
    return line != HPR_LINE and dep_name(line) != CRATE


def notebook_cells() -> dict[str, list[list[str]]]:
    """Each notebook's code cells, as lists of their `:dep` lines."""
    cells = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        cells[path.name] = [
            [line.strip() for line in "".join(cell["source"]).splitlines() if line.startswith(":dep ")]
            for cell in notebook["cells"]
            if cell["cell_type"] == "code"
        ]
    return cells


def chapter_lines() -> dict[str, str]:
    """Every distinct `:dep` line beyond the shared setup and the pins line, by pins feature."""
    lines = {}
    for cells in notebook_cells().values():
        for line in (line for cell in cells for line in cell):
            if is_chapter_line(line):
                lines.setdefault(feature_name(line), line)
    return dict(sorted(lines.items()))


def build_graphs(lines: dict[str, str], features: set[str]) -> tuple[set[Crate], dict[str, set[Crate]]]:
    """The registry crates a kernel builds on this host: with the shared setup alone, and what
    each chapter line adds to it (features resolved as a build resolves them), each with the pins
    feature of its name where there is one, as the chapter's cell has it."""
    host = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    host = re.search(r"^host: (\S+)", host, re.M).group(1)
    helpers = json.dumps(str(ROOT / "helpers"))
    hpr = HPR_LINE.removeprefix(":dep ").replace('"../helpers"', helpers)
    members = {"shared": [hpr]}
    for name, line in lines.items():
        pins = [pins_line([name]).removeprefix(":dep ").replace('"../helpers/kernel-pins"', json.dumps(str(PINS.parent)))]
        # A chapter's hpr line (with features) takes the place of the shared one.
        base = [] if dep_name(line) == "hpr" else [hpr]
        chapter = line.removeprefix(":dep ").replace('"../helpers"', helpers)
        members[f"with-{name}"] = base + [chapter] + (pins if name in features else [])
    with tempfile.TemporaryDirectory(prefix="hpr-kernel-pins-") as scratch:
        # One workspace, one resolution, one member per kernel: `cargo tree -p` then resolves
        # features for that member alone, as its kernel would.
        workspace = Path(scratch)
        names = json.dumps(list(members))
        (workspace / "Cargo.toml").write_text(f'[workspace]\nresolver = "3"\nmembers = {names}\n')
        for member, deps in members.items():
            (workspace / member / "src").mkdir(parents=True)
            (workspace / member / "src/lib.rs").write_text("")
            manifest = f'[package]\nname = "{member}"\nversion = "0.0.0"\nedition = "2024"\n\n'
            (workspace / member / "Cargo.toml").write_text(manifest + "[dependencies]\n" + "\n".join(deps) + "\n")
        graphs = {member: tree(workspace, member, host) for member in members}
    shared = graphs.pop("shared")
    return shared, {name: graphs[f"with-{name}"] - shared for name in lines}


def tree(workspace: Path, member: str, host: str) -> set[Crate]:
    command = ["cargo", "tree", "-p", member, "--edges=normal,build", f"--target={host}", "--prefix=none"]
    result = subprocess.run(command, cwd=workspace, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"cargo tree failed for the notebooks' :dep lines ({member}):\n{result.stderr}")
    crates = set()
    for line in result.stdout.splitlines():
        name, version, *rest = line.split()
        if not any(word.startswith("(/") for word in rest):  # path crates: hpr, the scratch members
            # A requirement cannot carry build metadata ("1.11.1+lz4-1.10.0"): cargo ignores it.
            crates.add((name, version.removeprefix("v").split("+")[0]))
    return crates


def read_pins() -> tuple[set[Crate], dict[str, set[Crate]]]:
    """What helpers/kernel-pins pins: always, and per feature."""
    if not PINS.exists():
        return set(), {}
    manifest = tomllib.loads(PINS.read_text())
    deps = manifest.get("target", {}).get("cfg(any())", {}).get("dependencies", {})
    crates = {key: (spec.get("package", key), spec["version"].removeprefix("=")) for key, spec in deps.items()}
    shared = {crate for key, crate in crates.items() if not deps[key].get("optional")}
    features = {
        feature: {crates[item.removeprefix("dep:")] for item in items}
        for feature, items in manifest.get("features", {}).items()
    }
    return shared, features


def write_pins(shared: set[Crate], features: dict[str, set[Crate]]) -> None:
    optional = set().union(*features.values()) - shared
    everything = shared | optional
    names = [name for name, _ in everything]

    def key(crate: Crate) -> str:
        name, version = crate
        return name if names.count(name) == 1 else f'{name}-v{version.replace(".", "-")}'

    def line(crate: Crate) -> str:
        name, version = crate
        package = f'package = "{name}", ' if key(crate) != name else ""
        extra = ", optional = true" if crate in optional else ""
        return f'{key(crate)} = {{ {package}version = "={version}", default-features = false{extra} }}'

    order = lambda crate: (crate[0], version_key(crate[1]))  # noqa: E731
    text = HEADER + f"\n# Every kernel: the shared setup cell's crates (hpr depends on this crate).\n{TABLE}\n"
    text += "".join(line(crate) + "\n" for crate in sorted(shared, key=order))
    text += "# A chapter's own :dep lines: enabled by the features below.\n"
    text += "".join(line(crate) + "\n" for crate in sorted(optional, key=order))
    text += "\n[features]\n"
    for feature, crates in sorted(features.items()):
        items = ", ".join(f'"dep:{key(crate)}"' for crate in sorted(crates - shared, key=order))
        text += f"{feature} = [{items}]\n"
    PINS.parent.mkdir(parents=True, exist_ok=True)
    PINS.write_text(text)
    lib = PINS.parent / "lib.rs"
    if not lib.exists():
        lib.write_text("//! Empty: this crate only pins versions (see Cargo.toml).\n")


def version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.+-]", version))


def notebook_problems(lines: dict[str, str]) -> list[str]:
    """A cell with chapter :dep lines must pin them: the pins line, with exactly their features."""
    problems = []
    for notebook, cells in notebook_cells().items():
        for cell in cells:
            added = sorted(feature_name(line) for line in cell if is_chapter_line(line))
            pins = [line for line in cell if dep_name(line) == CRATE]
            if added and pins != [pins_line(added)]:
                problems.append(f"{notebook}: the cell with :dep {', '.join(added)} needs\n    {pins_line(added)}")
            elif pins and not added:
                problems.append(f"{notebook}: {CRATE} without a :dep line to pin in its cell")
    return problems


def resolves(deps: list[str]) -> subprocess.CompletedProcess:
    """Resolve (without building or downloading) a crate with these dependency lines."""
    with tempfile.TemporaryDirectory(prefix="hpr-kernel-pins-") as scratch:
        crate = Path(scratch)
        (crate / "src").mkdir()
        (crate / "src/lib.rs").write_text("")
        manifest = '[package]\nname = "probe"\nversion = "0.0.0"\nedition = "2024"\n\n[workspace]\n\n'
        (crate / "Cargo.toml").write_text(manifest + "[dependencies]\n" + "\n".join(deps) + "\n")
        return subprocess.run(["cargo", "generate-lockfile"], cwd=crate, capture_output=True, text=True)


def mechanism_problems(shared: set[Crate]) -> list[str]:
    """Proof that hpr's pins take part in a kernel's resolution: an older patch release of a
    pinned crate resolves on its own, and fails to resolve beside hpr."""
    hpr = HPR_LINE.removeprefix(":dep ").replace('"../helpers"', json.dumps(str(ROOT / "helpers")))
    for name, version in sorted(shared):
        major, minor, patch = (version.split(".") + ["0", "0"])[:3]
        if not patch.isdigit() or int(patch) == 0:
            continue
        older = f'{name} = "={major}.{minor}.{int(patch) - 1}"'
        if resolves([older]).returncode != 0:
            continue  # that release does not exist (or is yanked): try another crate
        if resolves([hpr, older]).returncode == 0:
            return [f"hpr's pins do not hold: {older} resolves beside hpr, whose pins say ={version}"]
        return []
    return ["no pinned crate has an older patch release to prove the pins with"]


def describe(crates: set[Crate]) -> str:
    return ", ".join(f"{name} {version}" for name, version in sorted(crates))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="pin what is missing, drop the rest")
    mode.add_argument("--upgrade", action="store_true", help="re-resolve from the newest versions")
    args = parser.parse_args()
    lines = chapter_lines()
    pinned_shared, pinned_features = read_pins()
    if args.upgrade:
        PINS.rename(PINS.with_suffix(".toml.old"))
        write_pins(set(), {})
    try:
        shared, features = build_graphs(lines, set() if args.upgrade else set(pinned_features))
    finally:
        if args.upgrade and PINS.with_suffix(".toml.old").exists():
            PINS.with_suffix(".toml.old").replace(PINS)
    if args.write or args.upgrade:
        write_pins(shared, features)
        count = len(shared | set().union(*features.values()))
        print(f"{PINS.relative_to(ROOT)}: {count} crates ({len(shared)} for every kernel)")
        for problem in notebook_problems(lines):
            print(problem)
        return 0
    problems = notebook_problems(lines) + mechanism_problems(pinned_shared)
    for label, want, have in [("every kernel", shared, pinned_shared)] + [
        (f"feature {name}", crates, pinned_features.get(name, set()) - pinned_shared)
        for name, crates in features.items()
    ]:
        if want - have:
            problems.append(f"{label}: not pinned: {describe(want - have)}")
        if have - want:
            problems.append(f"{label}: pinned but not built: {describe(have - want)}")
    for name in set(pinned_features) - set(features):
        problems.append(f"feature {name}: no notebook has a :dep {name} line")
    for problem in problems:
        print(problem)
    if problems:
        print("fix the notebooks, then run scripts/kernel_pins.py --write", file=sys.stderr)
        return 1
    print(f"{PINS.relative_to(ROOT)}: every crate the notebooks' kernels build is pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
