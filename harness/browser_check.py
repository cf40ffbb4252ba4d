"""Opens a notebook in JupyterLab in a real, headless Chromium and runs it as a reader would.

Starts JupyterLab from this environment on a free loopback port, over a scratch copy of the
notebook (JupyterLab saves outputs into the file it runs; the repository keeps notebooks without
outputs), drives Debian's Chromium with Playwright (never a downloaded browser), runs all cells,
waits until every cell has run and the kernel is idle, then checks the page: a table and an SVG
plot are rendered, and no error, traceback or panic is shown. Saves a screenshot.

Prints a JSON report on stdout: status ("passed", "failed", "skipped" or "error"), the counts of
rendered tables and SVG plots, the problems found, and the screenshot's path. Exit status: 0
passed, 1 failed, 2 error (no Playwright, JupyterLab did not start), 3 skipped (no Chromium).
Usage: browser_check.py NOTEBOOK --screenshot PNG [--timeout SECONDS]
"""

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
# Words that mark a failed cell in an error or stderr output. (An error that a cell shows on
# purpose, as the tour does, is rendered as HTML and is not looked at.)
FAILURE_MARKS = ["panicked", "Traceback (most recent call last)", "error", "Error"]


STATUS_CODES = {"passed": 0, "failed": 1, "error": 2, "skipped": 3}


def report(status, problems, tables=0, plots=0, screenshot=None):
    print(
        json.dumps(
            {
                "status": status,
                "tables": tables,
                "plots": plots,
                "problems": problems,
                "screenshot": screenshot,
            }
        )
    )
    sys.exit(STATUS_CODES[status])


def fail(message):
    report("error", [message])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path():
    found = os.environ.get("HPR_CHROMIUM") or next(
        (p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None
    )
    if not found:
        report(
            "skipped",
            [
                "no Chromium: install Debian's package (apt-get install chromium; "
                "`make setup` does it as root) or set HPR_CHROMIUM to its path"
            ],
        )
    return found


def scratch_root(notebook):
    """A folder laid out like the repository (notebooks/ beside helpers/), holding a copy."""
    root = Path(tempfile.mkdtemp(prefix="hpr-browser-"))
    (root / "notebooks").mkdir()
    shutil.copy(notebook, root / "notebooks" / notebook.name)
    for shared in ["helpers", "Cargo.toml", "Cargo.lock", "services", "target"]:
        if (ROOT / shared).exists():
            (root / shared).symlink_to(ROOT / shared)
    # JupyterLab's own settings for this run: every cell rendered (not only those in view, so the
    # screenshot shows outputs after scrolling) and no news toast over the page.
    settings = root / ".lab-settings"
    for plugin, values in [
        ("notebook-extension/tracker", {"windowingMode": "none"}),
        ("apputils-extension/notification", {"fetchNews": "false"}),
    ]:
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return root


def start_lab(root, port, token, log):
    env = dict(os.environ)
    env["JUPYTER_PATH"] = str(ROOT / ".venv" / "share" / "jupyter")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(root / ".lab-settings")
    env["PATH"] = f"{Path.home() / '.cargo' / 'bin'}:{env.get('PATH', '')}"
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--ServerApp.token={token}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
            "--LabApp.collaborative=False",
            "--LabApp.expose_app_in_browser=True",
        ]
        # Containers and CI machines often run as root, which JupyterLab refuses by default.
        + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if lab.poll() is not None:
            return lab, f"JupyterLab exited with status {lab.returncode}"
        try:
            url = f"http://127.0.0.1:{port}/api/status?token={token}"
            with urllib.request.urlopen(url, timeout=2) as answer:
                json.load(answer)
                return lab, None
        except OSError:
            time.sleep(0.5)
    return lab, "JupyterLab did not answer on its port within 60 s"


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def kernels_idle(port, token):
    url = f"http://127.0.0.1:{port}/api/kernels?token={token}"
    with urllib.request.urlopen(url, timeout=5) as answer:
        kernels = json.load(answer)
    return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


CELL_PROMPTS = (
    "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
    ".map(p => p.textContent.trim())"
)


def run_notebook(page, port, token, name, timeout):
    page.goto(f"http://127.0.0.1:{port}/lab/tree/notebooks/{name}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # The kernel starts with the page; wait until it is connected before running cells.
    page.wait_for_function(
        "() => { const app = window.jupyterapp; const w = app && app.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session"
        "   && w.sessionContext.session.kernel;"
        " return !!k && k.connectionStatus === 'connected' }",
        timeout=120_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # Run-all marks every cell [*] at once and stops at a failing cell, leaving the rest
    # unnumbered: the run is over when no cell is [*] and the kernel stays idle.
    deadline, settled = time.time() + timeout, 0
    while time.time() < deadline:
        time.sleep(1)
        prompts = page.evaluate(CELL_PROMPTS)
        running = any("*" in p for p in prompts)
        settled = settled + 1 if not running and kernels_idle(port, token) else 0
        if settled >= 3:
            return None
    return f"the notebook did not finish within {timeout} s"


def inspect(page):
    problems = []
    not_run = [p for p in page.evaluate(CELL_PROMPTS) if not re.search(r"\[\d+\]", p)]
    if not_run:
        problems.append(f"{len(not_run)} code cells did not run (run-all stops at a failed cell)")
    tables = page.locator(".jp-OutputArea-output table").count()
    plots = page.locator(".jp-OutputArea-output svg").count()
    if tables == 0:
        problems.append("no table is rendered in the outputs")
    if plots == 0:
        problems.append("no SVG plot is rendered in the outputs")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    text = "\n".join(errors.all_inner_texts())
    for mark in FAILURE_MARKS:
        if mark in text:
            line = next(shown for shown in text.splitlines() if mark in shown)
            problems.append(f"the page shows {mark!r}: {line.strip()[:200]}")
    return tables, plots, problems


def show_a_plot(page):
    """Scrolls the first plot into view for the screenshot and closes JupyterLab's news toast."""
    no_news = page.get_by_role("button", name="No")
    if no_news.count():
        no_news.first.click()
    plots = page.locator(".jp-OutputArea-output svg")
    if plots.count():
        plots.first.scroll_into_view_if_needed()
        plots.first.wait_for(state="visible", timeout=10_000)
        page.wait_for_timeout(500)  # the scroll settles before the picture is taken


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--screenshot", type=Path, required=True)
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()
    notebook = args.notebook.resolve()
    if not notebook.is_file():
        fail(f"no notebook at {notebook}")
    chromium = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        fail("Playwright for Python is missing: run `make setup` (it is in environment.yml)")
    root = scratch_root(notebook)
    port, token = free_port(), secrets.token_hex(16)
    log_path = args.screenshot.with_suffix(".jupyterlab.log")
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        lab, problem = start_lab(root, port, token, log)
        try:
            if problem:
                fail(f"{problem}; its log: {log_path}")
            try:
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=chromium, headless=True)
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    problem = run_notebook(page, port, token, notebook.name, args.timeout)
                    tables, plots, problems = inspect(page)
                    show_a_plot(page)
                    page.screenshot(path=str(args.screenshot))
                    browser.close()
            except Exception as error:  # Playwright's timeouts and a browser that died
                report("failed", [f"the page did not get there: {error}".splitlines()[0]])
            problems = ([problem] if problem else []) + problems
            report(
                "failed" if problems else "passed", problems, tables, plots, str(args.screenshot)
            )
        finally:
            stop(lab)
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
