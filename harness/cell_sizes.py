"""How long the notebooks' code cells are: per notebook the median and 90th percentile of a code
cell's lines and the code lines in all, then the book's median and the share of code cells over
25 lines. `make test` prints it; the aim (issue 31) is a median of at most 12 lines with at most
5 % of the cells above 25. Lines are counted as the static checks count them (every line of the
cell's source, blank ones included).

    python harness/cell_sizes.py [notebooks/*.ipynb]
"""

import statistics
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LONG = 25


def code_cell_lines(path):
    notebook = nbformat.read(path, as_version=4)
    return [len(c.source.splitlines()) for c in notebook.cells if c.cell_type == "code"]


def p90(values):
    """The 90th percentile, interpolated as NumPy's default does."""
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def report(paths):
    rows, every = [], []
    for path in paths:
        lines = code_cell_lines(path)
        if not lines:
            continue
        every += lines
        rows.append((Path(path).stem, len(lines), statistics.median(lines), p90(lines), sum(lines)))
    if not every:
        raise SystemExit("cell_sizes: no code cells in " + " ".join(map(str, paths)))
    out = [f"{'notebook':<32} {'cells':>5} {'median':>6} {'p90':>5} {'lines':>6}"]
    out += [f"{n:<32} {c:>5} {m:>6.1f} {p:>5.1f} {t:>6}" for n, c, m, p, t in rows]
    long = sum(1 for n in every if n > LONG)
    out.append(
        f"{'the book':<32} {len(every):>5} {statistics.median(every):>6.1f} {p90(every):>5.1f} "
        f"{sum(every):>6}; {long} cells ({100 * long / len(every):.1f} %) over {LONG} lines"
    )
    return "\n".join(out)


if __name__ == "__main__":
    arguments = sys.argv[1:] or sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    print(report(arguments))
