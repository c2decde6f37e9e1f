#!/usr/bin/env bash
# Per-tensor type plans of llama.cpp's own quantizer, the reference for edge's recipes.
#
#   tests/refgen/llamacpp_quant_plans.sh
#
# Runs llama-quantize (built by benches/llamacpp-build.sh, at $LLAMA_CPP or /tmp/llama.cpp)
# with --allow-requantize on both test models for every mix edge implements, reads each output
# with gguf-py, and writes tests/golden/quant-plans/<model>-<mix>.json = {tensor name: type}
# (type names as gguf-py spells them, e.g. Q4_K). `<model>-q4_k.json` is `--pure ... Q4_K_M`,
# the reference for `edge-run quantize ... q4_k` (one type everywhere).
# For SmolLM2 and the mixes the end-to-end test runs (q4_0, q8_0, q4_k_m) it also writes
# tests/golden/quantize-model/smollm2-<mix>.json: general.file_type and the sha256 of every
# tensor's data in llama-quantize's output, so the test can check edge's whole output file.
# Also writes PROVENANCE.txt: the llama.cpp commit and the commands. Nothing is run at test time.
set -euo pipefail
cd "$(dirname "$0")/../.."
llama="${LLAMA_CPP:-/tmp/llama.cpp}"
quantize="$llama/build/bin/llama-quantize"
[ -x "$quantize" ] || llama="$(benches/llamacpp-build.sh)"
cache="${EDGE_MODELS:-$HOME/.cache/edge/models}"
out_dir=tests/golden/quant-plans
hash_dir=tests/golden/quantize-model
mkdir -p "$out_dir" "$hash_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A models=(
  [smollm2]=SmolLM2-135M-Instruct.Q4_1.gguf
  [gemma3]=gemma-3-270m-q4_k_m.gguf
)
mixes=(q2_k q3_k_s q3_k_m q3_k_l q4_k_s q4_k_m q5_k_s q5_k_m q6_k
       q4_0 q4_1 q5_0 q5_1 q8_0 iq4_nl iq4_xs f16 bf16)

{
  echo "llama-quantize from $llama"
  echo "llama.cpp version: $(cd "$llama" && git log -1 --format='%H %s' 2>/dev/null || echo unknown)"
  echo "models: ${models[*]} (from scripts/fetch-models.sh)"
  echo "command: llama-quantize --allow-requantize IN OUT MIX 2   (q4_k: --pure ... Q4_K_M)"
  echo "read with: gguf-py $(python3 -c 'from importlib.metadata import version; print(version("gguf"))')"
} > "$out_dir/PROVENANCE.txt"

plan() { # MODEL_KEY NAME OUTPUT.gguf
  python3 - "$3" > "$out_dir/$1-$2.json" <<'PY'
import json, sys
import gguf
r = gguf.GGUFReader(sys.argv[1])
json.dump({t.name: t.tensor_type.name for t in r.tensors}, sys.stdout, indent=0)
print()
PY
  echo "wrote $out_dir/$1-$2.json" >&2
}

hashes() { # MODEL_KEY MIX OUTPUT.gguf
  python3 - "$3" > "$hash_dir/$1-$2.json" <<'PY'
import hashlib, json, sys
import numpy as np
import gguf
r = gguf.GGUFReader(sys.argv[1])
out = {
    "file_type": int(r.fields["general.file_type"].contents()),
    "quantization_version": int(r.fields["general.quantization_version"].contents()),
    "tensors": {t.name: hashlib.sha256(np.asarray(t.data).tobytes()).hexdigest() for t in r.tensors},
}
json.dump(out, sys.stdout, indent=0)
print()
PY
  echo "wrote $hash_dir/$1-$2.json" >&2
}

for key in "${!models[@]}"; do
  in="$cache/${models[$key]}"
  for mix in "${mixes[@]}"; do
    "$quantize" --allow-requantize "$in" "$tmp/out.gguf" "${mix^^}" 2 > "$tmp/log" 2>&1 \
      || { cat "$tmp/log" >&2; exit 1; }
    plan "$key" "$mix" "$tmp/out.gguf"
    if [ "$key" = smollm2 ] && [[ " q4_0 q8_0 q4_k_m " == *" $mix "* ]]; then
      hashes "$key" "$mix" "$tmp/out.gguf"
    fi
  done
  "$quantize" --allow-requantize --pure "$in" "$tmp/out.gguf" Q4_K_M 2 > "$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; exit 1; }
  plan "$key" q4_k "$tmp/out.gguf"
done
