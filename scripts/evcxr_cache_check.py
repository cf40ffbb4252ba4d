"""Drops entries of evcxr's compile cache that name source files which no longer exist.

evcxr caches each dependency's compiled files, keyed by rustc's arguments with the build folder
taken out, and gives them to any later kernel. The dep-info file among them still lists the
sources by absolute path. For a crate that includes a file its build script wrote (rustversion's
`include!(concat!(env!("OUT_DIR"), "/version.expr"))`, for one), that path lies in the build
folder where the entry was made. Once that folder is gone, cargo finds the crate stale on every
cell of every later kernel and rebuilds it and everything above it from the cache: with polars,
25 crates and about 1.5 s per cell. Dropping such an entry makes the next kernel compile the
crate once, in its own folder, and the crates above it keep their entries.

The kernel launcher runs this before evcxr starts. Usage:
  evcxr_cache_check.py [--cache DIR] [--dry-run]
"""

import argparse
import os
import shutil
import sys
from pathlib import Path


def default_cache():
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evcxr"


def dependencies(dep_info):
    """The files a rustc dep-info file says the outputs depend on (the right of each rule)."""
    text = dep_info.read_text(errors="replace")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        # `output: dep dep …`, with spaces inside paths escaped as `\ `.
        head, sep, rest = line.replace("\\ ", "\0").partition(": ")
        if not sep:
            continue
        for word in rest.split():
            yield word.replace("\0", " ")


def missing_source(entry):
    """The first source an entry's dep-info names inside a build folder that is gone, if any.
    Only paths under a `target/` folder are checked: registry sources stay where they are."""
    for dep_info in entry.glob("*.d"):
        for path in dependencies(dep_info):
            if "/target/" in path and os.path.isabs(path) and not os.path.exists(path):
                return path
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--dry-run", action="store_true", help="only list the entries")
    args = parser.parse_args()
    if not args.cache.is_dir():
        return 0
    dropped = 0
    for entry in sorted(args.cache.iterdir()):
        if not entry.is_dir():
            continue
        missing = missing_source(entry)
        if missing is None:
            continue
        dropped += 1
        print(f"evcxr cache entry {entry.name}: {missing} is gone", file=sys.stderr)
        if not args.dry_run:
            shutil.rmtree(entry, ignore_errors=True)
    if dropped:
        verb = "would drop" if args.dry_run else "dropped"
        print(f"{verb} {dropped} evcxr cache entries whose sources are gone", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
