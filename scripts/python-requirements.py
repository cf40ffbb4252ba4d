"""Prints environment.yml's conda dependencies as pip requirements, one per line.

Only the subset of YAML that environment.yml uses is read (a `dependencies:` list of plain
strings), so that this runs before any package is installed. `python` itself is skipped.
"""
import re
import sys


def requirements(text):
    in_dependencies = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        if not line.startswith((" ", "-")):
            in_dependencies = line.strip() == "dependencies:"
            continue
        item = re.match(r"^\s*-\s+(\S.*)$", line)
        if not in_dependencies or not item:
            continue
        spec = item.group(1).strip().strip("'\"")
        name = re.split(r"[<>=!~ ]", spec, maxsplit=1)[0]
        if name == "python":
            continue
        if re.search(r"(?<![<>=!~])=(?!=)", spec):
            sys.exit(f"environment.yml: '{spec}' uses conda's single '='; write '==' or '>=' so pip reads it too")
        yield spec


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "environment.yml"
    with open(path, encoding="utf-8") as handle:
        specs = list(requirements(handle.read()))
    if not specs:
        sys.exit(f"{path}: no dependencies found")
    print("\n".join(specs))
