"""The project's two lock files: Cargo.lock for every crate (the notebooks' kernels included) and
python-lock.txt for every Python package, each the only place where versions are fixed.

The kernels build from Cargo.lock: `kernel/deps` is a workspace member, never compiled, that
lists every notebook's chapter `:dep` line (hpr is a member itself) and the dependencies of the
extension chapter 08 builds with maturin (extensions/julia_ext, outside the workspace), so one
resolution covers them all, features included. The launcher hands that lock file to every kernel
build (see kernel/cell-cargo), setup copies it beside the extension, and setup downloads every
crate in it, so nothing resolves after setup.

    lock.py                      check both lock files against the notebooks and environment.yml
    lock.py --write              add what the notebooks or environment.yml gained, drop the rest,
                                 keep every other version (`make lock`)
    lock.py --upgrade all        move every crate and Python package to its newest release
    lock.py --upgrade NAME ...   move these crates or Python packages only
                                 (`make lock UPGRADE=polars`)
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
CARGO_LOCK = ROOT / "Cargo.lock"
DEPS = ROOT / "kernel" / "deps" / "Cargo.toml"
PYTHON_LOCK = ROOT / "python-lock.txt"
ENVIRONMENT = ROOT / "environment.yml"
# The tool that resolves the Python side, installed on demand into a throwaway environment.
UV = "uv==0.13.9"
TABLE = "[target.'cfg(any())'.dependencies]"
HEADER = """\
# Written by kernel/lock.py from the notebooks' :dep lines and the dependencies of extensions/
# (`make lock`): edit those, not this. Never compiled (no platform matches cfg(any())): it brings
# every crate a notebook builds into the workspace's Cargo.lock, which fixes their versions.
[package]
name = "hpr-kernel-deps"
version = "0.0.0"
description = "Never built: the notebooks' own :dep lines and extensions, so that Cargo.lock covers them."
edition.workspace = true
license.workspace = true
publish = false

[lib]
path = "lib.rs"

"""  # noqa: E501 (the exact text of kernel/deps/Cargo.toml)


def dep_lines(notebooks: Path) -> dict[str, list[tuple[str, str]]]:
    """Every `:dep` line of the notebooks, by crate: (notebook, the line's specification)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(notebooks.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            for line in "".join(cell["source"]).splitlines():
                if line.startswith(":dep "):
                    name, _, spec = line.removeprefix(":dep ").partition("=")
                    found.setdefault(name.strip(), []).append((path.name, spec.strip()))
    return found


def chapter_deps(notebooks: Path = NOTEBOOKS) -> tuple[dict[str, str], list[str]]:
    """The registry crates the notebooks add to hpr, each with its one specification, and the
    problems found: two different lines for one crate, a version fixed outside the lock file, a
    line that is not TOML."""
    deps, problems = {}, []
    for name, uses in dep_lines(notebooks).items():
        where = ", ".join(sorted({notebook for notebook, _ in uses}))
        parsed = {}
        for _, spec in uses:
            try:
                parsed[spec] = tomllib.loads(f"x = {spec}")["x"]
            except tomllib.TOMLDecodeError as error:
                problems.append(f"{name} ({where}): not a TOML value: {spec} ({error})")
        if any(isinstance(value, dict) and "path" in value for value in parsed.values()):
            continue  # hpr itself, a member of the workspace with all its features locked
        if len(parsed) != 1:
            if len(parsed) > 1:
                problems.append(
                    f"{name}: the notebooks write different :dep lines ({where}); write one"
                )
            continue
        spec, parsed = parsed.popitem()
        version = parsed if isinstance(parsed, str) else parsed.get("version", "")
        if version.lstrip().startswith("="):
            problems.append(
                f"{name} ({where}): {version!r} fixes a version in a notebook; Cargo.lock fixes "
                f"versions: write the requirement (e.g. {version.lstrip('= ').rsplit('.', 1)[0]!r})"
            )
        deps[name] = spec
    return dict(sorted(deps.items())), problems


EXTENSIONS = ROOT / "extensions"


def extension_deps() -> tuple[dict[str, str], list[str]]:
    """The dependencies of each maturin extension under extensions/, with the features its
    pyproject.toml turns on (`crate/feature`), as `:dep`-style specifications."""
    deps, problems = {}, []
    for manifest in sorted(EXTENSIONS.glob("*/Cargo.toml")):
        where = manifest.parent.relative_to(ROOT)
        pyproject = manifest.parent / "pyproject.toml"
        extra = {}
        if pyproject.exists():
            maturin = tomllib.loads(pyproject.read_text()).get("tool", {}).get("maturin", {})
            for feature in maturin.get("features", []):
                crate, _, name = feature.partition("/")
                extra.setdefault(crate, []).append(name)
        for name, spec in tomllib.loads(manifest.read_text()).get("dependencies", {}).items():
            spec = {"version": spec} if isinstance(spec, str) else dict(spec)
            if "path" in spec:
                problems.append(f"{where}: {name} is a path dependency; Cargo.lock cannot cover it")
                continue
            if name in extra:
                spec["features"] = list(spec.get("features", [])) + extra[name]
            deps[name] = inline_table(spec)
    return deps, problems


def inline_table(spec: dict) -> str:
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    return "{ " + ", ".join(f"{k} = {value(v)}" for k, v in spec.items()) + " }"


def deps_manifest(deps: dict[str, str]) -> str:
    return HEADER + TABLE + "\n" + "".join(f"{name} = {spec}\n" for name, spec in deps.items())


def cargo(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["cargo", *args], cwd=ROOT, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"cargo {' '.join(args)} failed:\n{result.stderr}")
    return result


def exact_requirements() -> list[str]:
    """Manifests that fix a version themselves (`=1.2.3`), beside Cargo.lock."""
    manifests = [ROOT / "Cargo.toml", *ROOT.glob("*/Cargo.toml"), *ROOT.glob("*/*/Cargo.toml")]
    problems = []
    for manifest in sorted(set(manifests)):
        for number, line in enumerate(manifest.read_text().splitlines(), 1):
            if re.search(r'(version\s*=\s*|^[\w-]+\s*=\s*)"\s*=', line):
                problems.append(
                    f"{manifest.relative_to(ROOT)}:{number}: an exact requirement; "
                    "Cargo.lock fixes versions"
                )
    return problems


def cargo_problems() -> list[str]:
    """Cargo.lock must hold every crate of the workspace, kernel/deps included, as it stands."""
    if cargo("metadata", "--locked", "--format-version=1", check=False).returncode == 0:
        return []
    # Which crates are missing: what an update of the workspace's own entries would add.
    dry = cargo("update", "--workspace", "--dry-run", check=False).stderr
    changes = [
        line.strip()
        for line in dry.splitlines()
        if re.match(r"\s*(Adding|Updating|Removing) ", line)
    ]
    listed = "\n    ".join(changes) or dry.strip()
    return [f"Cargo.lock does not cover the workspace and the notebooks' :dep lines:\n    {listed}"]


def environment_pins() -> dict[str, str]:
    """environment.yml's `name==version` pins (pip's spelling), by normalised name."""
    requirements = subprocess.run(
        [sys.executable, str(ROOT / "scripts/python-requirements.py"), str(ENVIRONMENT)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pins = {}
    for line in requirements.splitlines():
        name, _, version = line.partition("==")
        pins[normalise(name)] = version.strip()
    return pins


def python_locked() -> dict[str, str]:
    """python-lock.txt's pins, by normalised name."""
    if not PYTHON_LOCK.exists():
        return {}
    found = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", PYTHON_LOCK.read_text(), re.M)
    return {normalise(name): version for name, version in found}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def python_problems() -> list[str]:
    locked = python_locked()
    if not locked:
        return [f"{PYTHON_LOCK.name} is missing: run `make lock`"]
    problems = []
    for name, version in environment_pins().items():
        if name not in locked:
            problems.append(
                f"{PYTHON_LOCK.name} lacks {name}, which environment.yml pins: run `make lock`"
            )
        elif locked[name] != version:
            problems.append(
                f"{PYTHON_LOCK.name} has {name} {locked[name]}, environment.yml pins {version}: "
                "run `make lock`"
            )
    if "--hash=sha256:" not in PYTHON_LOCK.read_text():
        problems.append(f"{PYTHON_LOCK.name} has no hashes: run `make lock`")
    return problems


def write_python(upgrade: list[str]) -> None:
    """Resolves environment.yml's pins and all they need, on every platform, with every file's hash;
    versions already in python-lock.txt are kept unless named in `upgrade` (or `all`)."""
    with tempfile.TemporaryDirectory(prefix="hpr-lock-") as scratch:
        scratch = Path(scratch)
        subprocess.run([sys.executable, "-m", "venv", str(scratch / "venv")], check=True)
        pip = [
            str(scratch / "venv/bin/python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, UV], check=True)
        # Named for what it holds, and given by a relative path: the lock file's `# via` lines
        # name it, and stay the same from one run to the next.
        requirements = scratch / "environment.yml.pins"
        requirements.write_text(
            "\n".join(f"{n}=={v}" for n, v in sorted(environment_pins().items())) + "\n"
        )
        command = [str(scratch / "venv/bin/uv"), "pip", "compile", "--quiet", "--universal"]
        command += ["--python-version", python_version(), "--generate-hashes", "--no-header"]
        command += ["--output-file", str(PYTHON_LOCK), requirements.name]
        if "all" in upgrade:
            command.append("--upgrade")
        else:
            command += [
                f"--upgrade-package={name}"
                for name in upgrade
                if normalise(name) in python_locked()
            ]
        subprocess.run(command, check=True, cwd=scratch)
    body = PYTHON_LOCK.read_text()
    PYTHON_LOCK.write_text(
        "# Every Python package of .venv at one version, with the sha256 of each of its files.\n"
        "# Written by kernel/lock.py from environment.yml (`make lock`): edit that, not this.\n"
        + body
    )


def python_version() -> str:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/python-requirements.py"),
            "--python",
            str(ENVIRONMENT),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def write_cargo(deps: dict[str, str], upgrade: list[str]) -> None:
    DEPS.parent.mkdir(parents=True, exist_ok=True)
    DEPS.write_text(deps_manifest(deps))
    lib = DEPS.parent / "lib.rs"
    if not lib.exists():
        lib.write_text("//! Empty: this crate only lists dependencies (see Cargo.toml).\n")
    if "all" in upgrade:
        cargo("update")
        return
    # Adds what the workspace gained and drops what it lost; every other version stays.
    cargo("update", "--workspace")
    locked = {name for name in re.findall(r'^name = "([^"]+)"$', CARGO_LOCK.read_text(), re.M)}
    crates = [name for name in upgrade if name in locked]
    if crates:
        cargo("update", *(arg for name in crates for arg in ("--package", name)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="bring both lock files in step")
    mode.add_argument(
        "--upgrade", nargs="+", metavar="NAME", help="crates or packages to move, or `all`"
    )
    parser.add_argument(
        "--notebooks", type=Path, default=NOTEBOOKS, help="check these notebooks instead"
    )
    args = parser.parse_args()
    if args.notebooks != NOTEBOOKS and (args.write or args.upgrade):
        parser.error("--notebooks only checks; `make lock` writes from notebooks/")
    deps, problems = chapter_deps(args.notebooks)
    extensions, extension_problems = extension_deps()
    problems += extension_problems
    for name, spec in extensions.items():
        if name in deps and tomllib.loads(f"x = {deps[name]}") != tomllib.loads(f"x = {spec}"):
            problems.append(
                f"{name}: a notebook's :dep line and extensions/ ask for it differently; write one"
            )
        deps.setdefault(name, spec)
    deps = dict(sorted(deps.items()))
    if args.write or args.upgrade:
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        upgrade = args.upgrade or []
        write_cargo(deps, upgrade)
        write_python(upgrade)
        print(
            "Cargo.lock and python-lock.txt are in step; run `make setup` to download what changed"
        )
    if DEPS.exists() and DEPS.read_text() != deps_manifest(deps):
        have = (
            tomllib.loads(DEPS.read_text())
            .get("target", {})
            .get("cfg(any())", {})
            .get("dependencies", {})
        )
        uses = dep_lines(args.notebooks)
        for name in sorted(set(deps) | set(have)):
            if name not in have:
                where = (
                    ", ".join(sorted({notebook for notebook, _ in uses.get(name, [])}))
                    or "extensions/"
                )
                problems.append(
                    f"{where}: `:dep {name}` is not in {DEPS.relative_to(ROOT)}, "
                    "so Cargo.lock lacks it: run `make lock`"
                )
            elif name not in deps:
                problems.append(
                    f"{DEPS.relative_to(ROOT)} lists {name}, which no notebook or extension uses: "
                    "run `make lock`"
                )
            elif tomllib.loads(f"x = {deps[name]}")["x"] != have[name]:
                problems.append(
                    f"the `:dep {name}` line (or extension dependency) changed: run `make lock`"
                )
        if not problems:
            problems.append(
                f"{DEPS.relative_to(ROOT)} is not as `make lock` writes it: run `make lock`"
            )
    elif not DEPS.exists():
        problems.append(f"{DEPS.relative_to(ROOT)} is missing: run `make lock`")
    problems += exact_requirements() + cargo_problems() + python_problems()
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(
        "Cargo.lock covers every notebook's :dep lines; "
        "python-lock.txt every package of environment.yml"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
