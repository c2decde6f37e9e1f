#!/usr/bin/env bash
# Runs every test of edge, installing what the tests need first. CI calls this (via .ci/run).
#
#   scripts/test.sh
#
# Installs: Debian packages the build needs (plus the aarch64 cross toolchain and qemu-user,
# by scripts/test-aarch64.sh; valgrind by scripts/test-ffi.sh; a JDK and python3-venv by
# scripts/test-bindings.sh), the `gguf` Python package (llama.cpp's gguf-py,
# the independent reference some tests run), and the test models (scripts/fetch-models.sh).
# EDGE_CI=1 makes a missing model or missing Python reference a failure instead of a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
export EDGE_CI=1
# Incremental caches only help rebuilds, and about double the size of target/.
export CARGO_INCREMENTAL=0

# Disk on CI machines is sometimes short; say how much there is, so that a failure to
# write shows its cause at once.
df -h . "${TMPDIR:-/tmp}" >&2 || true

step() { printf '\n== %s\n' "$*" >&2; }

step "system packages"
need=()
command -v cc >/dev/null || need+=(gcc)
command -v python3 >/dev/null || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q "${need[@]}";
  else echo "please install: ${need[*]}" >&2; exit 1; fi
fi

step "python reference packages"
python3 -c 'import gguf, numpy' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check gguf==0.19.0 numpy

step "test models"
scripts/fetch-models.sh all

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "tests"
cargo test --workspace --quiet

step "aarch64: NEON kernels and their tests under qemu-user"
scripts/test-aarch64.sh

step "C ABI: libedge from C (valgrind) on x86-64 and under qemu-user on aarch64"
scripts/test-ffi.sh

step "bindings: Python and Java over libedge (Python also under qemu-user on aarch64)"
scripts/test-bindings.sh

step "all tests passed"
