#!/usr/bin/env bash
# make demo: the main job on the embedded default, from a fresh clone: under 10 minutes on a 2-core AMD EPYC (2026-11-30).
#   1. harvest MiniLM (layer 3) activations from the Brown corpus; hold the last shard out for evaluation
#   2. build the POS probe set (layer 3 + embedding layer, lookup baseline) and SAEBench's first-letter probe set
#   3. generate the synthetic ground-truth data set
#   4. sweep ATM, TopK, BatchTopK, JumpReLU, ReLU+L1 and Matryoshka BatchTopK at matched L0 targets × seeds on both
#      data sets
#   5. write demo-out/report.md (comparison table, findings, plots) and print the table
#   6. (before the report, which links to it) build the feature browser demo-out/browse/: ATM vs TopK at the first L0
# Every step is idempotent: re-running skips finished work. Sizes can be overridden through the variables below.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${DEMO_OUT:-demo-out}"
atmsae="bin/atmsae"
TOKENS="${DEMO_TOKENS:-240000}"          # harvested MiniLM tokens (the last shard, SHARD_TOKENS rows, is held out)
SHARD_TOKENS="${DEMO_SHARD_TOKENS:-40000}"
WIDTH="${DEMO_WIDTH:-768}"               # 2 × d for MiniLM
TRAIN_TOKENS="${DEMO_TRAIN_TOKENS:-400000}"     # 2 epochs over the training shards
BATCH="${DEMO_BATCH:-1024}"
L0S="${DEMO_L0S:-16,32}"
SEEDS="${DEMO_SEEDS:-1,2}"
POS_FILES="${DEMO_POS_FILES:-15}"
FIRST_LETTER_WORDS="${DEMO_FIRST_LETTER_WORDS:-1500}"
ENGINE="${DEMO_ENGINE:-auto}"
# Sweep runs side by side, one engine thread each: on 2 cores two single-threaded runs take 25% less time than the same
# runs one after another on two threads (no per-step synchronisation); every result is the same bits either way.
CORES="$(nproc)"
PARALLEL_RUNS="${DEMO_PARALLEL_RUNS:-$(( CORES < 4 ? CORES : 4 ))}"
RUN_THREADS="${DEMO_RUN_THREADS:-$(( CORES / PARALLEL_RUNS > 1 ? CORES / PARALLEL_RUNS : 1 ))}"
ARCHS="${DEMO_ARCHS:-atm,topk,batchtopk,jumprelu,relu,matryoshka}"
# The demo's runs are a few hundred steps, far shorter than the specs' defaults assume (lr 3e-4 with 1000-step
# warm-ups, JumpReLU θ_init 0.01 / ε 0.05 for multi-million-token runs): with those, ReLU/ATM/JumpReLU barely move in
# 400 steps. These settings (measured on this data: FVU 0.26-0.36 at L0 16 for every architecture) are recorded in
# every run's cfg.json, so the comparison stays reproducible. See docs/decisions.md.
SHORT_RUN_SETTINGS="${DEMO_SETTINGS:---set lr=4e-3 --set jumprelu:lr=1e-2 --set jumprelu_theta_init=0.5 --set jumprelu_eps=0.2}"
start=$(date +%s)
stage_names=(); stage_starts=()
step() { stage_names+=("$*"); stage_starts+=("$(date +%s)"); echo; echo "== [$(( $(date +%s) - start ))s] $*"; }
# Per-stage timings and the total, printed at the end (the issue's budget: ≤ 10 minutes on a 2-core box).
timings() {
  local now i end
  now=$(date +%s)
  echo; echo "demo stage timings:"
  for i in "${!stage_names[@]}"; do
    end=${stage_starts[$((i + 1))]:-$now}
    printf '  %5ss  %s\n' "$(( end - stage_starts[i] ))" "${stage_names[i]}"
  done
  printf '  %5ss  total\n' "$(( now - start ))"
}

mkdir -p "$out/data"
step "Brown corpus"
corpus="$(tools/fetch-corpus.sh)"
echo "corpus: $corpus"

step "Harvest MiniLM layer 3 activations (~$TOKENS tokens)"
$atmsae harvest --out "$out/data/minilm-l3" --layer 3 --tokens "$TOKENS" --shard-tokens "$SHARD_TOKENS" --corpus "$corpus"
# Hold the last shard (later documents of the seeded order) out for reconstruction metrics.
mkdir -p "$out/data/train" "$out/data/eval"
shards=("$out"/data/minilm-l3/acts_*.npy)
last="${shards[${#shards[@]}-1]}"
for s in "${shards[@]}"; do
  dest="$out/data/train"; [[ "$s" == "$last" ]] && dest="$out/data/eval"
  ln -f "$s" "$dest/$(basename "$s")"
done
echo "train shards: $(( ${#shards[@]} - 1 )), eval shard: $(basename "$last")"

step "POS probe set (layer 3 and embedding layer, $POS_FILES documents)"
$atmsae harvest --probe-set pos --out "$out/data/pos" --layer 3 --files "$POS_FILES" --corpus "$corpus"

step "First-letter probe set (SAEBench task, $FIRST_LETTER_WORDS words)"
$atmsae harvest --probe-set first-letter --out "$out/data/first-letter" --layer 3 --max-words "$FIRST_LETTER_WORDS" --corpus "$corpus"

step "Synthetic ground truth"
[[ -f "$out/data/truth/truth/truth.json" || -d "$out/data/truth/probe_set" ]] || \
  $atmsae synth --out "$out/data/truth" --tokens 100000 --d 64 --trees 6 --children 4 --independent 16

step "Sweep on MiniLM: architectures {$ARCHS} × L0 {$L0S} × seeds {$SEEDS}"
$atmsae sweep --archs "$ARCHS" --data "$out/data/train" --eval-data "$out/data/eval" --probe-set "$out/data/pos" \
  --width "$WIDTH" --tokens "$TRAIN_TOKENS" --batch "$BATCH" --target-l0 "$L0S" --seeds "$SEEDS" \
  --eval-tokens 32768 --engine "$ENGINE" --out "$out/sweep-minilm" --quiet $SHORT_RUN_SETTINGS \
  --parallel-runs "$PARALLEL_RUNS" --threads "$RUN_THREADS" \
  --meta model_name=all-MiniLM-L6-v2 --meta hook_name=blocks.3.hook_resid_post --meta context_size=128 \
  --meta model_class_name=BertModel --meta exclude_special_tokens=true --meta prepend_bos=true

step "Sweep on synthetic ground truth"
$atmsae sweep --archs "$ARCHS" --data "$out/data/truth/shards" --truth "$out/data/truth" --width 64 --tokens 100000 --batch 512 \
  --target-l0 2,4 --seeds "$SEEDS" --eval-tokens 8192 --engine "$ENGINE" --out "$out/sweep-truth" --quiet \
  --parallel-runs "$PARALLEL_RUNS" --threads "$RUN_THREADS" $SHORT_RUN_SETTINGS

step "First-letter absorption (ATM, matched L0)"
atm_run="$(ls -d "$out"/sweep-minilm/runs/atm-* | head -1)"
$atmsae absorption --sae "$atm_run" --probe-set "$out/data/first-letter" --json "$out/first-letter-atm.json" \
  --md "$out/first-letter-atm.md" >/dev/null

step "Feature browser: ATM vs TopK at L0 ${L0S%%,*} (latents, POS absorption, side by side)"
browse_l0="${L0S%%,*}"; browse_seed="${SEEDS%%,*}"
[[ -f "$out/browse/compare/data/overview.js" ]] || $atmsae browse --sae "$out/sweep-minilm/runs/atm-l0_${browse_l0}-s${browse_seed}" \
  --compare "$out/sweep-minilm/runs/topk-l0_${browse_l0}-s${browse_seed}" \
  --data "$out/data/minilm-l3" --probe-set "$out/data/pos" --engine "$ENGINE" --out "$out/browse"

step "Report"
$atmsae report --sweep "$out/sweep-minilm" --truth-sweep "$out/sweep-truth" --pos-probe-set "$out/data/pos" \
  --pos-probe-set-embeddings "$out/data/pos/embeddings" --first-letter "$out/first-letter-atm.json" \
  --out "$out/report.md"
timings | tee "$out/timings.txt"
echo "demo finished in $(( $(date +%s) - start ))s; open $out/report.md"
