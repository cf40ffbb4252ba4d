#!/usr/bin/env bash
# Installs evcxr_jupyter 0.22.0 built from its crates.io sources with this folder's patches to
# the evcxr crate (each *.patch says what it changes and why), into ~/.cargo/bin like
# `cargo install evcxr_jupyter`. Does nothing when that build is already installed: cargo's
# install list names the source folder, and the folder's name carries a digest of the patches,
# so editing a patch builds again.
#
# The two crates are checked against the sha256 that crates.io publishes for them, unpacked
# under ~/.cache/hpr/, patched in the order of the patches' names, and evcxr_jupyter is pointed
# at the patched evcxr with a `[patch.crates-io]` entry; its own Cargo.lock then installs with
# --locked, as before.
#
# `install.sh --test [ARGS...]` prepares the same patched sources and runs evcxr's own test
# suite on them (`cargo test --locked ARGS...`) instead of installing. It is for whoever changes
# a patch, or moves to another evcxr release; setup never runs it, since the tests build evcxr
# once more in the test profile and run for many minutes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=0.22.0
declare -A sha256=(
    [evcxr]=ee69caeeefc311959b85962458e370d8eccb165123edbc5270134aaee6d7ed80
    [evcxr_jupyter]=3ce0d7b3058f68a9673df4f1266b641942fea0ec131881d095306e509a382764
)
export PATH="$HOME/.cargo/bin:$PATH"

fail() { printf 'evcxr install: %s\n' "$*" >&2; exit 1; }

patches=("$here"/*.patch)
[ -f "${patches[0]}" ] || fail "no patch found in $here"
patch_id=$(cat "${patches[@]}" | sha256sum | cut -c1-12)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hpr
source_dir="$cache/evcxr-$version-$patch_id"
package_dir="$source_dir/evcxr_jupyter-$version"

# Is this build the installed evcxr_jupyter?
installed() {
    cargo install --list | grep -qF "evcxr_jupyter v$version ($package_dir):" \
        && command -v evcxr_jupyter >/dev/null
}

# Unpacks and patches both crates into $source_dir, unless an earlier run did. The install and
# --test share this one path, so the tests run on exactly the sources that get installed.
prepare_sources() {
    [ -f "$package_dir/Cargo.toml" ] && return
    mkdir -p "$cache"
    partial=$(mktemp -d "$cache/evcxr-partial.XXXXXX")
    trap 'rm -rf "$partial"' EXIT
    for crate in evcxr evcxr_jupyter; do
        file="$partial/$crate-$version.crate"
        url="https://static.crates.io/crates/$crate/$crate-$version.crate"
        curl --silent --show-error --fail --location --retry 3 --output "$file" "$url" \
            || fail "could not download $url"
        echo "${sha256[$crate]}  $file" | sha256sum --check --quiet - \
            || fail "$crate-$version.crate does not have the sha256 crates.io publishes"
        tar -xzf "$file" -C "$partial"
        rm "$file"
    done
    for patch_file in "${patches[@]}"; do
        patch --quiet --forward -p1 -d "$partial/evcxr-$version" < "$patch_file" \
            || fail "$(basename "$patch_file") does not apply to evcxr $version"
    done
    printf '\n[patch.crates-io]\nevcxr = { path = "../evcxr-%s" }\n' "$version" \
        >> "$partial/evcxr_jupyter-$version/Cargo.toml"
    # The lock file names evcxr from the registry with its checksum; a path dependency has
    # neither, and --locked refuses a lock file that cargo would have to change.
    lock="$partial/evcxr_jupyter-$version/Cargo.lock"
    awk '
        /^\[\[package\]\]/ { in_evcxr = 0 }
        /^name = "evcxr"$/ { in_evcxr = 1 }
        in_evcxr && /^(source|checksum) = / { next }
        { print }
    ' "$lock" > "$lock.new"
    mv "$lock.new" "$lock"
    rm -rf "$source_dir"
    mv "$partial" "$source_dir"
    trap - EXIT
}

# A throwaway target folder, as `cargo install` from the registry uses (--path would build
# inside the source folder and keep about 2 GB there), unless CARGO_TARGET_DIR names one to keep:
# with it, a rebuild after a patch changes compiles only evcxr and evcxr_jupyter again. The
# install builds in its release/ subfolder and the tests in debug/, so one folder serves both.
choose_target() {
    if [ -n "${CARGO_TARGET_DIR:-}" ]; then
        target=$CARGO_TARGET_DIR
    else
        target=$(mktemp -d "${TMPDIR:-/tmp}/evcxr-build.XXXXXX")
        trap 'rm -rf "$target"' EXIT
    fi
}

case "${1:-}" in
    --version) echo "$version"; exit ;;
    --check) installed; exit ;;
    --test)
        shift
        prepare_sources
        choose_target
        # evcxr's own Cargo.lock, as published with the crate: the patches add no dependency.
        # Nothing is installed, and --locked leaves the shared source folder as it was.
        cd "$source_dir/evcxr-$version"
        cargo test --locked --target-dir "$target" "$@"
        exit
        ;;
    '') ;;
    # Anything else is a mistake; without this a misspelt --test would start a full install.
    *) fail "unknown option $1 (expected none, --version, --check or --test)" ;;
esac
installed && exit 0

prepare_sources
choose_target
cargo install --locked --force --quiet --path "$package_dir" --target-dir "$target"
