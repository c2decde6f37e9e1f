#!/usr/bin/env bash
# Tests the C ABI (libedge + ffi/include/edge.h) as C programs use it:
#
#  1. builds libedge.so and libedge.a (release) and checks that the committed header is
#     what cbindgen generates now (`cargo test -p edge-ffi --test header`);
#  2. compiles bindings/c/test_edge.c and edge-chat.c with -std=c11 -Wall -Wextra -Werror
#     -pedantic, against the shared library and against the static one;
#  3. runs test_edge (hostile calls + llama.cpp's tokens and greedy continuations +
#     jinja2's chat renderings) natively, then under valgrind memcheck (no invalid reads
#     or writes, no definite leaks), and edge-chat on a scripted conversation;
#  4. cross-compiles libedge for aarch64-unknown-linux-gnu and runs test_edge, linked
#     statically, under qemu-user.
#
# Installs what it needs when missing (apt-get as root: valgrind, the aarch64 cross
# toolchain, qemu-user; rustup target). Environment:
#   EDGE_MODELS        model cache (default ~/.cache/edge/models)
#   CARGO_TARGET_DIR   where cargo builds (default target/)
#   EDGE_FFI_SKIP      space-separated steps to skip: valgrind aarch64
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
MODEL="${EDGE_MODELS:-$HOME/.cache/edge/models}/SmolLM2-135M-Instruct.Q4_1.gguf"
REFERENCE="$root/../shared/reference/llama.cpp/smollm2.json"
SKIP=" ${EDGE_FFI_SKIP:-} "
AARCH64=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -O2 -g -I "$root/ffi/include")
# What a Rust static library needs from the system.
STATIC_LIBS=(-lpthread -ldl -lm)

say() { printf '\n==> %s\n' "$*" >&2; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }

if [ ! -f "$MODEL" ] || [ ! -f "$REFERENCE" ]; then
    echo "missing $MODEL or $REFERENCE (scripts/fetch-models.sh smollm2)" >&2
    exit 1
fi

apt_install() {
    local SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    run $SUDO apt-get update -qq
    run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

need=()
command -v cc >/dev/null || need+=(gcc)
case "$SKIP" in *" valgrind "*) ;; *) command -v valgrind >/dev/null || need+=(valgrind) ;; esac
case "$SKIP" in
*" aarch64 "*) ;;
*)
    command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
    [ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || need+=(libc6-dev-arm64-cross)
    command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user)
    ;;
esac
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt_install "${need[@]}" || apt_install "${need[@]/qemu-user/qemu-user-static}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- 1. the library and its header ---------------------------------------------------
say "building libedge (release)"
run cargo build -q --release -p edge-ffi
run cargo test -q -p edge-ffi --test header
lib="$TARGET_DIR/release"
python3 bindings/c/reference.py "$REFERENCE" tests/golden/chat > "$work/reference.txt"

# --- 2. the C programs -----------------------------------------------------------------
say "compiling the C programs (C11, -Wall -Wextra -Werror -pedantic)"
run cc "${CFLAGS[@]}" bindings/c/test_edge.c -o "$work/test_edge" -L "$lib" -ledge -Wl,-rpath,"$lib"
run cc "${CFLAGS[@]}" bindings/c/test_edge.c -o "$work/test_edge_static" "$lib/libedge.a" "${STATIC_LIBS[@]}"
run cc "${CFLAGS[@]}" bindings/c/edge-chat.c -o "$work/edge-chat" "$lib/libedge.a" "${STATIC_LIBS[@]}"
mkdir -p "$work/snippet"
# The README's C example, as written there.
python3 - bindings/c/README-snippet.md "$work/snippet/example.c" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"```c\n(.*?)```", text, re.S)
assert blocks, "no C code block in the README snippet"
open(sys.argv[2], "w").write(blocks[0])
PY
run cc "${CFLAGS[@]}" "$work/snippet/example.c" -o "$work/snippet/example" -L "$lib" -ledge -Wl,-rpath,"$lib"

# --- 3. run them -----------------------------------------------------------------------
say "test_edge (shared library)"
run "$work/test_edge" "$MODEL" "$work/reference.txt" "$work"
say "test_edge (static library)"
run "$work/test_edge_static" "$MODEL" "$work/reference.txt" "$work" --quick

say "edge-chat on a scripted conversation"
# The second question only makes sense with the first one in the context.
printf 'What is the capital of France?\nAnd of Germany?\n/reset\nHi\n' |
    run "$work/edge-chat" "$MODEL" -t 0 -n 24 -s "You are terse." > "$work/chat.out"
cat "$work/chat.out"
grep -q "Paris" "$work/chat.out" && grep -q "Berlin" "$work/chat.out" ||
    { echo "edge-chat did not answer Paris, then Berlin" >&2; exit 1; }

say "the README example"
(cd "$work/snippet" && run ./example "$MODEL") | tee "$work/example.out"
grep -q "Paris" "$work/example.out" || { echo "the README example did not answer Paris" >&2; exit 1; }

case "$SKIP" in
*" valgrind "*) ;;
*)
    say "test_edge under valgrind memcheck (quick set of reference cases, 1 thread)"
    start=$(date +%s)
    EDGE_TEST_THREADS=1 run valgrind -q --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        "$work/test_edge" "$MODEL" "$work/reference.txt" "$work" --quick
    say "valgrind: clean in $(( $(date +%s) - start ))s"
    ;;
esac

# --- 4. aarch64 under qemu --------------------------------------------------------------
case "$SKIP" in
*" aarch64 "*) ;;
*)
    QEMU=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)
    if ! rustup target list --installed | grep -qx "$AARCH64"; then
        run rustup target add "$AARCH64"
    fi
    say "building libedge ($AARCH64)"
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
        run cargo build -q --release -p edge-ffi --target "$AARCH64"
    run aarch64-linux-gnu-gcc "${CFLAGS[@]}" bindings/c/test_edge.c -o "$work/test_edge_aarch64" \
        "$TARGET_DIR/$AARCH64/release/libedge.a" "${STATIC_LIBS[@]}"
    say "test_edge under $QEMU (QEMU_CPU=max)"
    # The tier is chosen by the library; never inherit a forced x86 one.
    start=$(date +%s)
    run env -u EDGE_CPU_TIER QEMU_CPU=max EDGE_TEST_THREADS=2 \
        "$QEMU" -L "$SYSROOT" "$work/test_edge_aarch64" "$MODEL" "$work/reference.txt" "$work" --quick
    say "aarch64: passed in $(( $(date +%s) - start ))s"
    ;;
esac

say "C ABI tests passed"
