#!/usr/bin/env bash
# LLM speed, edge-run bench against llama-bench, alternating on the same machine with the
# same model, threads and test sizes. Prints a Markdown table for BENCHMARKS.md.
#
#   benches/llm-vs-llamacpp.sh [MODEL...]      # default: SmolLM2 Q4_1 from the model cache
#
# Env: THREADS (default "1 2"), PP (512), TG (128), REPS (3), MMAP ("1 0": both programs
# with the model mapped, their default, then both reading it into memory, llama-bench's
# `-lm none` and edge-run's `--no-mmap`), ROUNDS (1).
#
# With ROUNDS=1 a cell is one llama-bench run and one edge-run bench run of REPS
# repetitions each: mean ± sd. A shared machine drifts by more than the gap being
# measured, so ROUNDS=N alternates the two programs N times per setting and a cell is
# the median of the N means (min–max), the ratio the median of the N per-round ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${EDGE_MODELS:-$HOME/.cache/edge/models}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=("$cache/SmolLM2-135M-Instruct.Q4_1.gguf")
threads="${THREADS:-1 2}"; pp="${PP:-512}"; tg="${TG:-128}"; reps="${REPS:-3}"
mmaps="${MMAP:-1 0}"; rounds="${ROUNDS:-1}"

llama="$(benches/llamacpp-build.sh)"
[ -x "$llama/build/bin/llama-bench" ] || cmake --build "$llama/build" --target llama-bench >&2
cargo build --release -q -p edge-cli
edge="${CARGO_TARGET_DIR:-target}/release/edge-run"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

# cells OUT N_PROMPT N_GEN → "llama | edge | ratio" table cells of that test from the
# llama-bench style JSON lists OUT/{llama,edge}.R.json of every round R
cells() {
  python3 - "$@" <<'PY'
import glob, json, statistics, sys
out, n_prompt, n_gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rows(prog):
    found = []
    for path in sorted(glob.glob(f"{out}/{prog}.*.json")):
        for r in json.load(open(path)):
            if r["n_prompt"] == n_prompt and r["n_gen"] == n_gen:
                found.append(r)
    return found
llama, edge = rows("llama"), rows("edge")
if len(llama) == 1:
    l, e = llama[0], edge[0]
    print(f'{l["avg_ts"]:.1f} ± {l["stddev_ts"]:.1f} | {e["avg_ts"]:.1f} ± {e["stddev_ts"]:.1f}'
          f' | {e["avg_ts"] / l["avg_ts"]:.2f}×')
else:
    def cell(xs, fmt):
        return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"
    ts = lambda v: f"{v:.1f}"
    ratios = [e["avg_ts"] / l["avg_ts"] for l, e in zip(llama, edge)]
    print(f'{cell([r["avg_ts"] for r in llama], ts)} | {cell([r["avg_ts"] for r in edge], ts)}'
          f' | {cell(ratios, lambda v: f"{v:.2f}×")}')
PY
}

echo "| model | mmap | threads | test | llama.cpp t/s | edge t/s | edge / llama.cpp |"
echo "|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  for mm in $mmaps; do
    edge_load=(); llama_load=mmap; [ "$mm" = 1 ] || { edge_load=(--no-mmap); llama_load=none; }
    for t in $threads; do
      rm -f "$out"/*.json
      for r in $(seq "$rounds"); do
        "$llama/build/bin/llama-bench" -m "$m" -p "$pp" -n "$tg" -t "$t" -r "$reps" -lm "$llama_load" -o json > "$out/llama.$r.json" 2>/dev/null
        "$edge" bench "$m" -p "$pp" -n "$tg" -t "$t" -r "$reps" "${edge_load[@]}" --json > "$out/edge.$r.json" 2>/dev/null
      done
      for test in "pp$pp $pp 0" "tg$tg 0 $tg"; do
        set -- $test
        echo "| $(basename "$m") | $([ "$mm" = 1 ] && echo yes || echo no) | $t | $1 | $(cells "$out" "$2" "$3") |"
      done
    done
  done
done
