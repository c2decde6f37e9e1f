#!/usr/bin/env bash
# LLM speed, edge-run bench against llama-bench, alternating on the same machine with the
# same model, threads and test sizes. Prints a Markdown table for BENCHMARKS.md.
#
#   benches/llm-vs-llamacpp.sh [MODEL...]      # default: SmolLM2 Q4_1 from the model cache
#
# Env: THREADS (default "1 2"), PP (512), TG (128), REPS (3), MMAP ("1 0": both programs
# with the model mapped, their default, then both reading it into memory, llama-bench's
# `-lm none` and edge-run's `--no-mmap`).
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${EDGE_MODELS:-$HOME/.cache/edge/models}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=("$cache/SmolLM2-135M-Instruct.Q4_1.gguf")
threads="${THREADS:-1 2}"; pp="${PP:-512}"; tg="${TG:-128}"; reps="${REPS:-3}"
mmaps="${MMAP:-1 0}"

llama="$(benches/llamacpp-build.sh)"
[ -x "$llama/build/bin/llama-bench" ] || cmake --build "$llama/build" --target llama-bench >&2
cargo build --release -q -p edge-cli
edge="${CARGO_TARGET_DIR:-target}/release/edge-run"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

# ts FILE N_PROMPT N_GEN → "avg ± sd" tokens/s of that test from a llama-bench style JSON list
ts() {
  python3 - "$@" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
for r in rows:
    if r["n_prompt"] == int(sys.argv[2]) and r["n_gen"] == int(sys.argv[3]):
        print(f'{r["avg_ts"]:.1f} ± {r["stddev_ts"]:.1f}')
PY
}
ratio() { python3 -c "import sys; a=float(sys.argv[1].split()[0]); b=float(sys.argv[2].split()[0]); print(f'{a/b:.2f}×')" "$1" "$2"; }

echo "| model | mmap | threads | test | llama.cpp t/s | edge t/s | edge / llama.cpp |"
echo "|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  for mm in $mmaps; do
    edge_load=(); llama_load=mmap; [ "$mm" = 1 ] || { edge_load=(--no-mmap); llama_load=none; }
    for t in $threads; do
      "$llama/build/bin/llama-bench" -m "$m" -p "$pp" -n "$tg" -t "$t" -r "$reps" -lm "$llama_load" -o json > "$out/llama.json" 2>/dev/null
      "$edge" bench "$m" -p "$pp" -n "$tg" -t "$t" -r "$reps" "${edge_load[@]}" --json > "$out/edge.json" 2>/dev/null
      for test in "pp$pp $pp 0" "tg$tg 0 $tg"; do
        set -- $test
        l=$(ts "$out/llama.json" "$2" "$3"); e=$(ts "$out/edge.json" "$2" "$3")
        echo "| $(basename "$m") | $([ "$mm" = 1 ] && echo yes || echo no) | $t | $1 | $l | $e | $(ratio "$e" "$l") |"
      done
    done
  done
done
