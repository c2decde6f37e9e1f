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
say "aarch64 kernel tests passed in $(( $(date +%s) - start ))s (excluding the build)"

# --- one end-to-end generation on the emulated CPU -----------------------------------
# The default model, greedy, against llama.cpp's greedy continuation of the first reference
# prompt (up to 8 tokens, or to the first step where llama.cpp's own margin is a near-tie).
model="${EDGE_MODELS:-$HOME/.cache/edge/models}/SmolLM2-135M-Instruct.Q4_1.gguf"
reference="$(cd .. && pwd)/shared/reference/llama.cpp/smollm2.json"
if [ -f "$model" ] && [ -f "$reference" ]; then
    say "building edge-run ($TARGET)"
    run cargo build -q --release -p edge-cli --target "$TARGET"
    target_dir="${CARGO_TARGET_DIR:-target}"
    prompt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompts"][0]["text"])' "$reference")
    say "generating under $QEMU (QEMU_CPU=max)"
    QEMU_CPU=max run $CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER \
        "$target_dir/$TARGET/release/edge-run" "$model" -p "$prompt" -n 8 --temp 0 -t 2 --json \
        > "$target_dir/aarch64-generation.json"
    python3 - "$target_dir/aarch64-generation.json" "$reference" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))["prompts"][0]
n = next((i for i, m in enumerate(ref["greedy_margin"]) if m < 0.5), 8)
n = min(n, 8, len(out["tokens"]))
assert out["prompt_tokens"] == ref["tokens"], "prompt tokens differ from llama.cpp's"
assert out["tokens"][:n] == ref["greedy"][:n], f'aarch64 greedy {out["tokens"][:n]} != llama.cpp {ref["greedy"][:n]}'
print(f"aarch64 generation: {n} greedy tokens equal llama.cpp's: {out['text']!r}")
PY
elif [ "${EDGE_CI:-}" = 1 ]; then
    echo "missing $model or $reference" >&2
    exit 1
fi
