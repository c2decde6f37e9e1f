#!/usr/bin/env bash
# Tests the language bindings over the C ABI (libedge):
#   1. Python (bindings/python, package `edgerun`): pytest on x86-64, in a virtual
#      environment, with the package installed by pip;
#   2. Java (bindings/java): the JNI shim built against ffi/include/edge.h, the classes and
#      the test program compiled with javac and run on the machine's Java 17 (-Xcheck:jni);
#   3. the README examples of both (README-snippet.md), compiled/run as written;
#   4. aarch64: the Python tests (a subset, EDGE_TEST_QUICK=1) under qemu-user, with an
#      aarch64 Python unpacked from Debian's packages into a private sysroot, against an
#      aarch64 build of libedge.
#
# Installs what it needs when missing (apt-get as root: python3-venv, a JDK, the aarch64
# cross toolchain and qemu-user; pytest into the virtual environment). Exits non-zero on
# any failure. Environment:
#   CARGO_TARGET_DIR  where to build (default: target); the bindings' work files go to
#                     $CARGO_TARGET_DIR/bindings
#   EDGE_MODELS       the model cache (default ~/.cache/edge/models)
#   EDGE_CI=1         a missing model or reference fails the tests instead of skipping them
#   SKIP_AARCH64=1    leave out step 4
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
WORK="$TARGET_DIR/bindings"
MODELS=${EDGE_MODELS:-$HOME/.cache/edge/models}
MODEL="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
REFERENCE="$(cd .. && pwd)/shared/reference/llama.cpp/smollm2.json"
CHAT_GOLDEN="$ROOT/tests/golden/chat"
PYTEST_VERSION=8.3.5
AARCH64=aarch64-unknown-linux-gnu

say() { printf '\n==> %s\n' "$*" >&2; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }
mkdir -p "$WORK"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=0
apt_install() {
    say "installing $*"
    if [ "$apt_updated" = 0 ]; then
        run $SUDO apt-get update -qq
        apt_updated=1
    fi
    run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

if [ ! -f "$MODEL" ] || [ ! -f "$REFERENCE" ]; then
    if [ "${EDGE_CI:-}" = 1 ]; then
        echo "missing $MODEL or $REFERENCE (EDGE_CI=1)" >&2
        exit 1
    fi
    echo "warning: $MODEL or $REFERENCE missing: the model-based tests will be skipped" >&2
fi

# --- libedge ---------------------------------------------------------------------------
say "building libedge (x86-64)"
run cargo build -q --release -p edge-ffi
LIBEDGE="$TARGET_DIR/release/libedge.so"

# --- 1. Python ---------------------------------------------------------------------------
VENV="$WORK/venv"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
    run python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import pytest, sys; sys.exit(pytest.__version__ != '$PYTEST_VERSION')" 2>/dev/null; then
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check "pytest==$PYTEST_VERSION"
fi
# Reinstalled only when the package's files changed since the last install.
PKG_HASH=$(cd bindings/python && find pyproject.toml README-snippet.md src -type f ! -path '*/__pycache__/*' \
    -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VENV/.edgerun-installed" 2>/dev/null)" != "$PKG_HASH" ]; then
    say "installing edgerun (pip install ./bindings/python)"
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall \
        --no-deps ./bindings/python
    rm -rf bindings/python/build bindings/python/src/edgerun.egg-info
    echo "$PKG_HASH" >"$VENV/.edgerun-installed"
fi

say "python tests (x86-64)"
start=$(date +%s)
# From outside the source tree, so that the installed package is the one tested.
(cd "$WORK" && EDGE_LIBRARY="$LIBEDGE" run "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    "$ROOT/bindings/python/tests")
say "python tests passed in $(( $(date +%s) - start ))s"

# --- 2. Java -----------------------------------------------------------------------------
if ! command -v javac >/dev/null; then
    # Java 17 where the release has it (bookworm), else the release's default JDK.
    [ "$apt_updated" = 1 ] || { run $SUDO apt-get update -qq; apt_updated=1; }
    if apt-cache show openjdk-17-jdk-headless >/dev/null 2>&1; then
        apt_install openjdk-17-jdk-headless
    else
        apt_install default-jdk-headless
    fi
fi
JAVAC=$(readlink -f "$(command -v javac)")
JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$JAVAC")")}
JAVA="$JAVA_HOME/bin/java"
JWORK="$WORK/java"
rm -rf "$JWORK"
mkdir -p "$JWORK/lib" "$JWORK/classes" "$JWORK/test-classes" "$JWORK/example"

say "building the JNI shim and the Java classes"
cp "$LIBEDGE" "$JWORK/lib/"
# shellcheck disable=SC2016  # $ORIGIN is for the dynamic linker
run cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -fPIC -shared \
    -I ffi/include -I "$JAVA_HOME/include" -I "$JAVA_HOME/include/linux" \
    bindings/java/jni/edge_jni.c -o "$JWORK/lib/libedge_jni.so" \
    -L "$JWORK/lib" -ledge -Wl,-rpath,'$ORIGIN'
run "$JAVA_HOME/bin/javac" -Xlint:all -Werror --release 11 -d "$JWORK/classes" \
    bindings/java/src/dev/edge/*.java
run "$JAVA_HOME/bin/javac" -Xlint:all -Werror -d "$JWORK/test-classes" -cp "$JWORK/classes" \
    bindings/java/test/*.java

# -Xcheck:jni reports misuse of JNI (a call with an exception pending, leaked local
# references) as warnings: any of them fails the test.
java_run() {
    local log=$1
    shift
    set +e
    "$JAVA" -Xcheck:jni -Djava.library.path="$JWORK/lib" "$@" >"$log" 2>&1
    local rc=$?
    set -e
    cat "$log"
    if grep -q -e 'WARNING in native method' -e 'FATAL ERROR in native method' "$log"; then
        echo "error: -Xcheck:jni found JNI misuse (see above)" >&2
        return 1
    fi
    return $rc
}

say "java tests"
start=$(date +%s)
java_run "$JWORK/test.log" -cp "$JWORK/classes:$JWORK/test-classes" EdgeTest \
    "$MODEL" "$REFERENCE" "$CHAT_GOLDEN"
say "java tests passed in $(( $(date +%s) - start ))s"

# --- 3. The README examples, as written ---------------------------------------------------
say "README examples"
python3 - bindings/java/README-snippet.md "$JWORK/example/Example.java" <<'PY'
import re, sys
blocks = re.findall(r"```java\n(.*?)```", open(sys.argv[1], encoding="utf-8").read(), re.S)
assert len(blocks) == 1, "README-snippet.md must hold exactly one java block"
open(sys.argv[2], "w", encoding="utf-8").write(blocks[0])
PY
run "$JAVA_HOME/bin/javac" -Werror -d "$JWORK/example" -cp "$JWORK/classes" "$JWORK/example/Example.java"
java_run "$JWORK/example.log" -cp "$JWORK/classes:$JWORK/example" Example
grep -q Paris "$JWORK/example.log" || { echo "error: the Java example did not say Paris" >&2; exit 1; }
# The Python example is run by bindings/python/tests/test_readme_snippet.py (step 1).

# --- 4. aarch64 under qemu-user ------------------------------------------------------------
if [ "${SKIP_AARCH64:-}" = 1 ]; then
    say "skipping aarch64 (SKIP_AARCH64=1)"
    exit 0
fi
SYSROOT=/usr/aarch64-linux-gnu
need_apt=()
command -v aarch64-linux-gnu-gcc >/dev/null || need_apt+=(gcc-aarch64-linux-gnu)
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || need_apt+=(libc6-dev-arm64-cross)
QEMU=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
[ -n "$QEMU" ] || need_apt+=(qemu-user)
if [ ${#need_apt[@]} -gt 0 ]; then
    if ! apt_install "${need_apt[@]}"; then
        need_apt=("${need_apt[@]/qemu-user/qemu-user-static}")
        apt_install "${need_apt[@]}"
    fi
    QEMU=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)
fi
rustup target list --installed | grep -qx "$AARCH64" || run rustup target add "$AARCH64"

say "building libedge ($AARCH64)"
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    run cargo build -q --release -p edge-ffi --target "$AARCH64"
LIBEDGE_ARM="$TARGET_DIR/$AARCH64/release/libedge.so"

# An aarch64 Python: Debian's own packages for this release, unpacked (dpkg -x) into a
# private sysroot; nothing is installed on the system. A private apt state directory holds
# the arm64 package lists, so the system's apt configuration is left alone.
PY_ARM="$WORK/aarch64-python"
. /etc/os-release
# The version of Debian's own python3 (bookworm: 3.11), else of the python3 on the path.
PYV=$( (/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
    || python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
STAMP="$PY_ARM/.stamp-${VERSION_CODENAME:-unknown}-$PYV-pytest$PYTEST_VERSION"
if [ ! -f "$STAMP" ]; then
    say "fetching an aarch64 Python $PYV from Debian ${VERSION_CODENAME:-} (private sysroot $PY_ARM)"
    rm -rf "$PY_ARM"
    mkdir -p "$PY_ARM/apt/lists/partial" "$PY_ARM/apt/cache/archives/partial" "$PY_ARM/debs" \
        "$PY_ARM/root" "$PY_ARM/site"
    APT_ARM=(-q -o APT::Architecture=arm64 -o APT::Architectures::=arm64
        -o Dir::State::Lists="$PY_ARM/apt/lists" -o Dir::Cache="$PY_ARM/apt/cache"
        -o Dir::State::status=/dev/null -o Debug::NoLocking=1)
    run apt-get "${APT_ARM[@]}" update >/dev/null
    # The interpreter, its standard library, the libraries they depend on directly (their
    # names differ between releases, e.g. libssl3 / libssl3t64) and libgcc_s for libedge.
    py_debs=("python$PYV-minimal" "libpython$PYV-minimal" "libpython$PYV-stdlib")
    mapfile -t lib_debs < <(apt-cache "${APT_ARM[@]}" depends --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances "${py_debs[@]}" \
        | sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: //p' | sed 's/:arm64$//' \
        | grep -E '^(lib|zlib)' | sort -u)
    (cd "$PY_ARM/debs" && run apt-get "${APT_ARM[@]}" download "${py_debs[@]}" "${lib_debs[@]}" libgcc-s1)
    for deb in "$PY_ARM"/debs/*.deb; do
        dpkg -x "$deb" "$PY_ARM/root"
    done
    rm -rf "$PY_ARM/apt" "$PY_ARM/debs"
    # pytest and its dependencies are pure Python: the host's pip (step 1's virtual
    # environment) puts them in a directory the aarch64 interpreter reads.
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-compile \
        --target "$PY_ARM/site" "pytest==$PYTEST_VERSION"
    touch "$STAMP"
fi

say "python tests under $QEMU (aarch64, a quick subset)"
start=$(date +%s)
(cd "$WORK" && QEMU_CPU=max EDGE_TEST_QUICK=1 EDGE_LIBRARY="$LIBEDGE_ARM" \
    PYTHONPATH="$ROOT/bindings/python/src:$PY_ARM/site" PYTHONDONTWRITEBYTECODE=1 \
    run "$QEMU" -L "$PY_ARM/root" "$PY_ARM/root/usr/bin/python$PYV" -c \
        'import platform, sys, pytest; assert platform.machine() == "aarch64", platform.machine(); sys.exit(pytest.main(sys.argv[1:]))' \
        -q -p no:cacheprovider "$ROOT/bindings/python/tests")
say "aarch64 python tests passed in $(( $(date +%s) - start ))s"
