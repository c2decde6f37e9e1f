#!/usr/bin/env bash
# Builds llama.cpp, the peer we measure against, from the source the `llama-cpp-python`
# package ships (fetched with `pip download`), into $LLAMA_CPP (default /tmp/llama.cpp).
#
#   benches/llamacpp-build.sh            # prints the directory; binaries in build/bin
#
# AVX2 and AVX-512 on, AMX off (AMX faults on our CI machines), no -march=native.
set -euo pipefail
version=0.3.36
dest="${LLAMA_CPP:-/tmp/llama.cpp}"
targets=(llama-quantize llama-perplexity llama-bench llama-cli ggml-base)

if [ ! -f "$dest/CMakeLists.txt" ]; then
  command -v cmake >/dev/null || apt-get install -y -q cmake
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$version" -d "$tmp"
  tar xzf "$tmp"/llama_cpp_python-$version.tar.gz -C "$tmp"
  rm -rf "$dest"
  mv "$tmp/llama_cpp_python-$version/vendor/llama.cpp" "$dest"
  rm -rf "$tmp"
fi
if [ ! -x "$dest/build/bin/llama-quantize" ]; then
  cmake -S "$dest" -B "$dest/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
    -DGGML_AVX2=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON \
    -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
    -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF >&2
  cmake --build "$dest/build" -j"$(nproc)" --target "${targets[@]}" >&2
fi
echo "$dest"
