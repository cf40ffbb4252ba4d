"""The results history: each chapter's results file (`build/results/NAME.json`), what the next
run compares with and chapter 13 reads, and the facts about the machine that decide whether two
runs' results compare at all.
"""

import json
import os
import time

# A result counts as changed since the previous run beyond its measured noise, or beyond this
# when it has none.
DEFAULT_NOISE = 0.10


def changes_since(previous, report, machine):
    """The results that moved beyond their noise since the previous run on this machine; none
    when either run was in check mode, whose numbers are rough."""
    if not previous or previous.get("machine", {}).get("key") != machine["key"]:
        return []
    if "check" in (previous.get("mode", "full"), report["mode"]):
        return []
    before = {r["name"]: r for r in previous.get("results", [])}
    changes = []
    for result in report["results"]:
        old = before.get(result["name"])
        if not old or old["value"] == 0 or old.get("unit") != result["unit"]:
            continue
        change = result["value"] / old["value"] - 1
        noise = max(result.get("noise") or 0, old.get("noise") or 0) or DEFAULT_NOISE
        if abs(change) > noise:
            changes.append(
                {
                    "name": result["name"],
                    "previous": old["value"],
                    "value": result["value"],
                    "unit": result["unit"],
                    "change": change,
                    "noise": noise,
                }
            )
    return changes


def save_results(report, machine, results_dir):
    """build/results/<notebook>.json: what a later run compares with, and what chapter 13 reads."""
    path = results_dir / f"{report['name']}.json"
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    report["changes"] = changes_since(previous, report, machine)
    kept = {
        k: report[k]
        for k in [
            "name",
            "title",
            "mode",
            "status",
            "seconds",
            "results",
            "headlines",
            "claims_seen",
            "claims_not_seen",
            "changes",
        ]
    }
    # What the next run's progress output estimates from (a run stopped early has no use for it),
    # and the crates that run built once, which the estimate leaves out once they are built.
    if report["status"] == "ok":
        kept["cell_seconds"] = [c["seconds"] for c in report["cells"]]
        kept["one_time_builds"] = report.get("one_time_builds", [])
    elif previous and previous.get("cell_seconds"):
        kept["cell_seconds"] = previous["cell_seconds"]
        kept["one_time_builds"] = previous.get("one_time_builds", [])
    kept["machine"] = machine
    kept["recorded"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    path.write_text(json.dumps(kept, indent=1, ensure_ascii=False), encoding="utf-8")
    (results_dir / f"{report['name']}.jsonl").unlink(missing_ok=True)


def machine_facts():
    """What the notebooks ran on: the gallery's header, and the key that decides whether two
    runs' results are comparable."""
    import platform
    import subprocess

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    try:
        rustc = subprocess.run(
            ["rustc", "--version"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        rustc = "rustc not found"
    summary = (
        f"{cpu}, {os.cpu_count()} logical cores; {platform.system()} {platform.release()}; "
        f"{rustc}; Python {platform.python_version()}; cells built at opt-level 3 without "
        "overflow checks or debug assertions (the setup cell checks it)"
    )
    return {
        "key": f"{platform.node()} | {cpu} | {os.cpu_count()} cores | {rustc}",
        "summary": summary,
    }
