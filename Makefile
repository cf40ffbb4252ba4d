# The two commands of the README: `make run` (execute every notebook into build/) and
# `make test`. Both install what is missing first (scripts/setup.sh), then reuse it.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
# The kernel registered inside .venv comes before any user-wide kernel of the same name.
export JUPYTER_PATH := $(CURDIR)/.venv/share/jupyter
PYTHON := .venv/bin/python
# JupyterLab refuses to run as root (containers, CI machines) unless told it may.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,)

# `make run NB=03` executes only the notebooks whose names start with 03 (NB=03 07 for two).
NB ?=
NOTEBOOKS := $(if $(strip $(NB)),$(sort $(foreach n,$(NB),$(wildcard notebooks/$(n)*.ipynb))),$(wildcard notebooks/*.ipynb))

.PHONY: setup run lab test bench bench-kernel lock clean clean-all

setup:
	@scripts/setup.sh

run: setup
	@test -n "$(NOTEBOOKS)" || { echo "no notebook matches NB=$(NB) in notebooks/"; exit 1; }
	$(PYTHON) harness/nbexec.py --out build $(NOTEBOOKS)

lab: setup
	.venv/bin/jupyter lab --notebook-dir=notebooks $(LAB_FLAGS)

# make test runs in two lanes, one per core. The first lane runs the first chapters in check mode,
# then the polars test: on a new machine chapter 07 and that test would build polars at once, and
# the second finds it in evcxr's cache. The other lane runs every other test, then the later
# chapters. The closing chapter, which reads every chapter's results, runs once both are done.
# Every lane runs to the end, and all must pass; the first lane's output follows the second's.
# A failing run ends by printing cargo's report of each failed test again, from the lanes' logs
# in target/, so that the end of the output (all a CI page may keep) says what failed and why.
FIRST_LANE := first_chapters_run categorical_frames_survive_later_cells_only_when_kept
LAST := closing_chapter_runs
LANE_LOGS := target/notebooks-test.log target/other-tests.log target/closing-test.log
test: setup
	cargo fmt --all -- --check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	cargo clippy --locked --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --locked -p hpr --no-deps
	cargo test --locked --workspace --no-run --quiet
	$(PYTHON) harness/cell_sizes.py
	@mkdir -p target; \
	cargo test --locked --no-fail-fast -p notebook-tests \
	    --test book_notebooks --test book_polars_categoricals -- $(FIRST_LANE) \
	    > target/notebooks-test.log 2>&1 & first=$$!; \
	cargo test --locked --workspace --no-fail-fast -- $(FIRST_LANE:%=--skip %) --skip $(LAST) \
	    2>&1 | tee target/other-tests.log; others=$${PIPESTATUS[0]}; \
	wait $$first; status=$$?; \
	echo; echo "==> the first lane (target/notebooks-test.log):"; cat target/notebooks-test.log; \
	echo; echo "==> the closing chapter, on every chapter's results"; \
	cargo test --locked -p notebook-tests --test book_notebooks -- $(LAST) \
	    2>&1 | tee target/closing-test.log; last=$${PIPESTATUS[0]}; \
	if [ $$others = 0 ] && [ $$status = 0 ] && [ $$last = 0 ]; then exit 0; fi; \
	echo; echo "==> what failed, again (cargo's reports, from $(LANE_LOGS)):"; \
	awk '/^failures:$$/ { keep = 1 } keep { print } /^test result:/ { keep = 0 }' $(LANE_LOGS); \
	exit 1

bench: bench-kernel
	cargo bench -p hpr --bench timeit_vs_criterion

# How fast the kernel answers: start to first cell, trivial cells with and without hpr or polars.
# The run's tables go into docs/kernel-log.md as a dated section, newest first.
bench-kernel: setup
	$(PYTHON) kernel/checks/kernel_bench.py --log docs/kernel-log.md

# Versions change only here: Cargo.lock and python-lock.txt take what the notebooks' :dep lines
# and environment.yml gained, keeping every other version; UPGRADE=all moves everything to the
# newest releases, UPGRADE="polars numpy" those alone. Then `make test`, and commit both files.
UPGRADE ?=
lock:
	python3 kernel/lock.py $(if $(strip $(UPGRADE)),--upgrade $(UPGRADE),--write)

# Also what kernels that were killed left: their processes and private folders in /tmp.
clean:
	rm -rf build target/notebook-reports
	@if [ -x target/release/hpr-kernel-guard ]; then target/release/hpr-kernel-guard sweep; fi

# Everything else the project made: the kernels' build folders, evcxr's patched source and its
# compile cache, the extension's build, the Python environment and cargo's target folder. Left:
# cargo's download cache (~/.cargo/registry, shared with every Rust project) and the installed
# evcxr_jupyter (`cargo uninstall evcxr_jupyter`). The next `make` installs it all again.
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
clean-all: clean
	rm -rf target .venv extensions/julia_ext/Cargo.lock "$(CACHE)/hpr" "$(CACHE)/evcxr"
