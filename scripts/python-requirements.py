"""Prints environment.yml's conda dependencies as pip requirements, one per line.

Only the subset of YAML that environment.yml uses is read (a `dependencies:` list of plain
strings), so that this runs before any package is installed. `python` itself is skipped;
with `--python` the script prints the interpreter version it pins instead (e.g. `3.11`).
"""

import re
import sys


def dependency_specs(text):
    """The strings of the `dependencies:` list, in order."""
    in_dependencies = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        if not line.startswith((" ", "-")):
            in_dependencies = line.strip() == "dependencies:"
            continue
        item = re.match(r"^\s*-\s+(\S.*)$", line)
        if in_dependencies and item:
            yield item.group(1).strip().strip("'\"")


def python_pin(text):
    """The version in `python=X.Y` (conda's spelling), or None when Python is not pinned."""
    for spec in dependency_specs(text):
        pinned = re.fullmatch(r"python\s*==?\s*(\d+\.\d+)(\.\*)?", spec)
        if pinned:
            return pinned.group(1)
    return None


def requirements(text):
    for spec in dependency_specs(text):
        name = re.split(r"[<>=!~ ]", spec, maxsplit=1)[0]
        if name == "python":
            continue
        if re.search(r"(?<![<>=!~])=(?!=)", spec):
            sys.exit(
                f"environment.yml: '{spec}' uses conda's single '='; "
                "write '==' or '>=' so pip reads it too"
            )
        yield spec


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--python"]
    path = args[0] if args else "environment.yml"
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if "--python" in sys.argv[1:]:
        print(python_pin(text) or "")
        sys.exit(0)
    specs = list(requirements(text))
    if not specs:
        sys.exit(f"{path}: no dependencies found")
    print("\n".join(specs))
