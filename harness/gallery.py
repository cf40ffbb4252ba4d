"""What `nbexec.py --out DIR` leaves for a reader: each executed notebook with its HTML, and the
gallery DIR/index.html, readable without Jupyter.

The gallery shows every chapter with its status, run time, recorded results and what changed
since the previous run, its measured headlines, the timing claims this run did not show, and
links to its rendering. The page's layout is templates/gallery.html.j2; this module prepares
what it shows.
"""

import json
import time
from pathlib import Path

import jinja2
import nbformat

TEMPLATES = Path(__file__).resolve().parent / "templates"


def write_outputs(nb, report, out_dir):
    """The executed notebook and its HTML rendering, named after the notebook."""
    from nbconvert import HTMLExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / f"{report['name']}.ipynb")
    body, _ = HTMLExporter().from_notebook_node(nb)
    (out_dir / f"{report['name']}.html").write_text(body, encoding="utf-8")


def earlier_runs(reports, results_dir):
    """The chapters this run did not execute, from their results files, so that `make run NB=13`
    keeps every chapter in the gallery."""
    ran = {r["name"] for r in reports}
    earlier = []
    for path in sorted(results_dir.glob("*.json")):
        if path.stem in ran:
            continue
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        saved["earlier"] = True
        earlier.append(saved)
    return earlier


def section(report, claim_marker):
    """What the gallery shows of one notebook's run (a report, or a results file when the
    notebook ran earlier), as text ready for the template. `claim_marker` is hpr's prefix of
    a claim this run did not show."""
    # A chapter this run did not execute shows its last recorded run (see earlier_runs).
    if report.get("earlier"):
        when = (
            f"run in {report['seconds']} s on {report['recorded'].replace('T', ' ')} "
            "(an earlier run)"
        )
    else:
        when = f"{len(report['cells'])} code cells run in {report['seconds']} s"
    if report.get("mode") == "check":
        when += " · check mode: every measurement at its smallest settings, numbers rough"
    moved = {c["name"]: c for c in report.get("changes", [])}
    results = []
    for result in report.get("results") or []:
        change = moved.get(result["name"])
        results.append(
            {
                "name": result["name"],
                "value": f"{result['value']:.4g} {result['unit']}",
                "compares": result["compares"],
                "change": (
                    f"{change['change']:+.0%} since the previous run ({change['previous']:.4g})"
                    if change
                    else ""
                ),
            }
        )
    failure = report.get("failure")
    return {
        "name": report["name"],
        "title": report.get("title") or report["name"],
        "status": report["status"],
        "badge": "ok" if report["status"] == "ok" else "failed",
        "when": when,
        "failure": failure and {**failure, "message": failure["message"][:300]},
        "results": results,
        "headlines": [h["text"] for h in report.get("headlines") or []],
        # The claim as stated, without the marker and hpr's reminder about machines and load.
        "claims_not_seen": [
            c["text"].replace(claim_marker, "").split(" (timings depend on")[0].strip()
            for c in report["claims_not_seen"]
        ],
    }


def render_index(reports, machine, claim_marker, now=None):
    """The gallery's HTML; `now` (a time.struct_time) is the date it shows, the current time by
    default."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("gallery.html.j2").render(
        passed=sum(r["status"] == "ok" for r in reports),
        count=len(reports),
        date=time.strftime("%Y-%m-%d %H:%M", now or time.localtime()),
        machine=machine["summary"],
        sections=[section(r, claim_marker) for r in reports],
    )


def write_index(reports, out_dir, machine, claim_marker):
    """Writes the gallery, out_dir/index.html."""
    page = render_index(reports, machine, claim_marker)
    (out_dir / "index.html").write_text(page, encoding="utf-8")
