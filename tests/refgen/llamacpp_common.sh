# Sourced by the llama.cpp reference scripts: the test models by key, and the build of
# llamacpp_reference.c against a built llama.cpp tree.

# Model key → file in the model cache (scripts/fetch-models.sh).
declare -A source=(
  [smollm2]=SmolLM2-135M-Instruct.Q4_1.gguf
  [gemma3]=gemma-3-270m-q4_k_m.gguf
)

# build_reference LLAMA_DIR OUT: compiles tests/refgen/llamacpp_reference.c to OUT, linked
# to that tree's libllama (run from the workspace root).
build_reference() {
  cc -O2 -Wall tests/refgen/llamacpp_reference.c -o "$2" \
    -I"$1/include" -I"$1/ggml/include" -L"$1/build/bin" \
    -Wl,-rpath,"$1/build/bin" -lllama -lggml -lggml-base -lm
}
