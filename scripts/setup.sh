#!/usr/bin/env bash
# Installs what the notebooks need, skipping whatever is already in place, so it is cheap to run
# again. Caches stay in their standard places: ~/.cargo for evcxr, ~/.cache/pip for Python
# packages, ~/.cache/evcxr for compiled notebook dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
evcxr_version=$(kernel/evcxr/install.sh --version)
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '==> %s\n' "$*"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo not found: install Rust with rustup (https://rustup.rs) first"

# evcxr compiles cells against the standard library's source.
if command -v rustup >/dev/null && ! rustup component list --installed | grep -q '^rust-src'; then
    step "rustup component add rust-src"
    rustup component add rust-src
fi

have() { command -v "$1" >/dev/null; }

# evcxr_jupyter, built from its crates.io sources with kernel/evcxr/*.patch applied to evcxr
# (how it drives rust-analyzer, see docs/kernel.md). Its build is most of a new machine's setup,
# so it runs in the background while the steps below wait on the network (Debian packages, Python
# packages, crates) and build what needs no kernel (the services, the kernel's own crates,
# chapter 08's extension); setup waits for it before registering the kernel.
evcxr_build=
if ! kernel/evcxr/install.sh --check; then
    step "building evcxr_jupyter $evcxr_version with kernel/evcxr's patches, in the background (5-30 minutes on 2 cores, once)"
    mkdir -p target
    # In a process group of its own, so that setup stopped early (a failed step, Ctrl-C) stops
    # cargo and rustc with it.
    setsid kernel/evcxr/install.sh > target/evcxr-install.log 2>&1 &
    evcxr_build=$!
    trap '[ -z "$evcxr_build" ] || kill -- "-$evcxr_build" "$evcxr_build" 2>/dev/null || true' EXIT
fi
wait_for_evcxr() {
    [ -n "$evcxr_build" ] || return 0
    step "waiting for evcxr_jupyter's build to finish"
    if ! wait "$evcxr_build"; then
        evcxr_build=
        cat target/evcxr-install.log >&2
        fail "building evcxr_jupyter failed (its output is above, and in target/evcxr-install.log)"
    fi
    evcxr_build=
}

# Installs the Debian package $1 (as root, with apt-get) unless the check after $2 passes; $2 says
# what it is for. Without root or apt-get, says how to install it instead.
debian_package() {
    local package=$1 purpose=$2
    shift 2
    "$@" && return 0
    if [ "$(id -u)" = 0 ] && have apt-get; then
        step "installing $package: $purpose"
        { apt-get install -y -q "$package" || { apt-get update -q && apt-get install -y -q "$package"; }; } \
            >/dev/null 2>&1 || echo "    $package could not be installed; it is missing for $purpose"
    else
        echo "note: install the Debian package $package (apt-get install $package) for $purpose"
    fi
}

# evcxr links every cell; it picks mold or lld by itself when one is on PATH.
has_fast_linker() { have mold || have lld; }
debian_package lld "a faster linker for notebook cells" has_fast_linker
# Chapter 12 stores a real word list (about 350,000 words) in every structure it compares.
debian_package wamerican-huge "notebook 12's word list" test -f /usr/share/dict/american-english-huge
# Chapter 11 runs its job queue on a real Redis, started by the notebook on a loopback port
# (or set REDIS_URL to use a running one).
had_redis=$(have redis-server && echo yes || true)
debian_package redis-server "notebook 11's broker" have redis-server
# Installing Debian's package also starts a Redis for the whole system, on port 6379 with no
# password, and enables it at boot; the notebooks never use it. Stop it and keep it from
# starting again, with systemd or without (in a container without it, the init script and its
# rc links). Best effort: nothing here fails setup, and running it twice changes nothing. A
# redis-server that was installed before setup ran is left as it is.
quiet_system_redis() {
    if have systemctl; then
        # Without a running systemd this only removes the boot links, which is what is wanted.
        systemctl disable redis-server.service >/dev/null 2>&1 || true
        [ ! -d /run/systemd/system ] || systemctl stop redis-server.service >/dev/null 2>&1 || true
    fi
    if [ -x /etc/init.d/redis-server ]; then
        # The init script stops only the server of its pid file, never a notebook's.
        if have service; then service redis-server stop >/dev/null 2>&1 || true; fi
        if have update-rc.d; then update-rc.d redis-server disable >/dev/null 2>&1 || true; fi
    fi
}
if [ -z "$had_redis" ] && have redis-server && [ "$(id -u)" = 0 ]; then
    step "stopping and disabling the system-wide Redis that the redis-server package started"
    quiet_system_redis
fi
# The browser test opens the tour in JupyterLab in Debian's Chromium (driven by Playwright); it
# fails without it, as the Redis tests fail without redis-server.
debian_package chromium "the JupyterLab browser test" have chromium


python=${PYTHON:-python3}
command -v "$python" >/dev/null || fail "$python not found: install the Python version that environment.yml pins"
# The notebooks' statements about Python hold for the interpreter environment.yml pins.
pinned=$("$python" scripts/python-requirements.py --python environment.yml)
for interpreter in "$python" .venv/bin/python; do
    [ -x "$(command -v "$interpreter")" ] || continue
    found=$("$interpreter" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ -z "$pinned" ] || [ "$found" = "$pinned" ] || fail "$interpreter is Python $found, but environment.yml pins $pinned: \
set PYTHON=/path/to/python$pinned (and remove .venv if it was made with $found)"
done
if [ ! -x .venv/bin/python ]; then
    step "creating the Python environment .venv"
    "$python" -m venv .venv || fail "'$python -m venv' failed (on Debian: apt-get install python3-venv)"
fi
# python-lock.txt fixes every package's version and the hashes of its files (kernel/lock.py
# writes it from environment.yml), so a new release on PyPI cannot change a baseline.
if ! cmp -s python-lock.txt .venv/hpr-python-lock.txt; then
    step "installing the Python packages of python-lock.txt into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
        --no-deps -r python-lock.txt
    cp python-lock.txt .venv/hpr-python-lock.txt
fi

# Every crate of Cargo.lock (the notebooks' kernels build from it) and of chapter 08's extension,
# downloaded once: after this the notebooks need no network (the kernels run cargo offline).
step "downloading the crates of Cargo.lock"
cargo fetch --locked --quiet
# Chapter 08's extension builds outside the workspace, from the same lock file (kernel/deps lists
# its dependencies): cargo keeps the versions it needs and prunes the rest there.
cmp -s Cargo.lock extensions/julia_ext/Cargo.lock || cp Cargo.lock extensions/julia_ext/Cargo.lock
# rust-analyzer, inside evcxr, reads the standard library's workspace with cargo metadata, which
# needs that workspace's own crates.io dependencies: offline, only once they are downloaded.
library=$(rustc --print sysroot)/lib/rustlib/src/rust/library/Cargo.toml
[ -f "$library" ] || fail "$library is missing: rustup component add rust-src"
RUSTC_BOOTSTRAP=1 cargo fetch --locked --quiet --manifest-path "$library"
# The programs the notebooks start as separate processes (a server, queue workers): one crate
# each under services/, built once here in release mode.
services=()
for manifest in services/*/Cargo.toml; do
    [ -f "$manifest" ] && services+=("$(basename "$(dirname "$manifest")")")
done
# With them, the cargo the kernel's launcher gives evcxr (kernel/cell-cargo): it replays a
# cell's rustc command when only the cell changed, instead of cargo checking the whole graph;
# and the process the launcher runs the kernel in (kernel/guard): its build-folder slot, its
# private folder, and no process left behind.
step "building the notebooks' services (${services[*]}), hpr-cell-cargo and hpr-kernel-guard"
cargo build --release --locked --offline --quiet "${services[@]/#/--package=}" \
    --package=hpr-cell-cargo --package=hpr-kernel-guard
# Chapter 08's extension, built as its cell builds it (the same maturin, interpreter, manifest and
# target folder), so that the chapter's build finds everything compiled and only packs the wheel.
step "building chapter 08's extension (extensions/julia_ext) with maturin"
python_for_notebooks=${HPR_PYTHON:-$root/helpers/../.venv/bin/python}
extension_wheels=$(mktemp -d)
"$(dirname "$python_for_notebooks")/maturin" build --release --quiet \
    --manifest-path extensions/julia_ext/Cargo.toml \
    --target-dir "${XDG_CACHE_HOME:-$HOME/.cache}/hpr/julia_ext-target" \
    -i "$python_for_notebooks" --out "$extension_wheels" > target/julia_ext-build.log 2>&1 \
    || { cat target/julia_ext-build.log >&2; fail "maturin could not build extensions/julia_ext (its output is above)"; }
rm -rf "$extension_wheels"

# The kernel is registered inside .venv, not in the user's Jupyter; the Makefile puts this
# directory first on JUPYTER_PATH.
# Its launcher (kernel/launcher) gives each kernel a build folder that the next one reuses.
wait_for_evcxr
kernel_json=.venv/share/jupyter/kernels/rust/kernel.json
launcher="$root/kernel/launcher"
if ! grep -qF "\"$launcher\"" "$kernel_json" 2>/dev/null; then
    step "registering the evcxr kernel 'rust' in .venv"
    JUPYTER_PATH="$root/.venv/share/jupyter" evcxr_jupyter --install >/dev/null
    .venv/bin/python - "$kernel_json" "$launcher" <<'PY'
import json, sys
path, launcher = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["argv"][0] = launcher
json.dump(spec, open(path, "w"), indent=2)
PY
fi

# hpr, built once in a kernel's build folder while nothing is measured, so that no chapter's
# first cell waits for it (a bare machine's chapter 00 did, about 25 s).
step "building hpr in a kernel's build folder"
JUPYTER_PATH="$root/.venv/share/jupyter" .venv/bin/python scripts/warm_kernel.py \
    || fail "a new kernel could not run the notebooks' setup cell (see above)"

step "setup complete: evcxr_jupyter $evcxr_version, kernel 'rust' in .venv"
