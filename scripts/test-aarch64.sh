#!/usr/bin/env bash
# Cross-compiles edge-kernels' tests for aarch64 Linux and runs them under qemu-user:
# once on an emulated CPU with the dot-product extension (QEMU_CPU=max: tiers scalar,
# neon, neon-dotprod) and once on one without it (QEMU_CPU=cortex-a72: scalar, neon),
# so every NEON kernel is checked against the scalar reference by the proptests.
#
# Installs what it needs when missing (apt-get as root, rustup target). Exits non-zero
# on any failure. Environment:
#   PROPTEST_CASES   proptest cases per property (default: each test's own, as on x86;
#                    emulation is fast enough for them: about 10 s per CPU)
#   CARGO_TARGET_DIR where to build (default: cargo's)
#   EXTRA_TEST_ARGS  extra arguments for `cargo test` (e.g. a test name filter)
set -euo pipefail

cd "$(dirname "$0")/.."
TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu

say() { printf '\n==> %s\n' "$*" >&2; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }

# --- toolchain -------------------------------------------------------------------
need_apt=()
command -v aarch64-linux-gnu-gcc >/dev/null || need_apt+=(gcc-aarch64-linux-gnu)
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || need_apt+=(libc6-dev-arm64-cross)
QEMU=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
[ -n "$QEMU" ] || need_apt+=(qemu-user)
if [ ${#need_apt[@]} -gt 0 ]; then
    say "installing ${need_apt[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    run $SUDO apt-get update -qq
    if ! run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"; then
        # Some releases only ship the static build of qemu-user.
        need_apt=("${need_apt[@]/qemu-user/qemu-user-static}")
        run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
    fi
    QEMU=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)
fi
if ! rustup target list --installed | grep -qx "$TARGET"; then
    run rustup target add "$TARGET"
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$QEMU -L $SYSROOT"
# The tier is chosen per test by the test itself; never inherit a forced x86 one.
unset EDGE_CPU_TIER

# Release: the proptests run ~10x faster under emulation than a debug build.
CARGO_ARGS=(test -p edge-kernels --release --target "$TARGET")
# Word splitting of the optional extra arguments is intended.
# shellcheck disable=SC2206
EXTRA=(${EXTRA_TEST_ARGS:-})

say "building ($TARGET)"
run cargo "${CARGO_ARGS[@]}" --no-run

start=$(date +%s)
for cpu in max cortex-a72; do
    say "running under $QEMU with QEMU_CPU=$cpu${PROPTEST_CASES:+, PROPTEST_CASES=$PROPTEST_CASES}"
    QEMU_CPU=$cpu run cargo "${CARGO_ARGS[@]}" "${EXTRA[@]}"
done
say "aarch64 tests passed in $(( $(date +%s) - start ))s (excluding the build)"
