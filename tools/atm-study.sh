#!/usr/bin/env bash
# Runs both stages of the ATM study (issue 10; docs/atm-study.md) from a built checkout, resumably:
#   stage 1 on synthetic ground truth, then the MiniLM layer-3 harvest (1.15M Brown tokens: shards 0-9 train,
#   10-11 held out), the POS probe set (30 documents) and stage 2 on the best 3 stage-1 ATM configurations.
#   Stage 1b (issue 21; not in the default STAGES): the regime map of where TopK/BatchTopK absorb on synthetic ground
#   truth (studies/stage1b-regimes.json), then the matched-L0 study in the absorbing regime (studies/stage1b.json) and
#   in a second one (studies/stage1b-second.json).
# Every step skips what is already there, so a killed run is continued by running this again. Each finished stage is
# published to docs/atm-study/stageN (report, JSON, plots, and every run's result.json + train_config.json); a fresh
# checkout starts from those published runs, so a study interrupted in one session continues in the next.
#   THREADS (default: all processors) CPU threads per study; STAGES (default "1 2"; "1b" for issue 21's stage).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
atmsae=bin/atmsae
threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")

# run VERB CONFIG OUT PUBLISHED: continue from the published runs, run (reusing what finished), publish
run() {
  local verb="$1" config="$2" out="$3" published="$4"
  if [[ ! -d "$out/runs" && -d "$published/runs" ]]; then   # continue from the committed results
    mkdir -p "$out" && cp -r "$published/runs" "$out/"
  fi
  $atmsae "$verb" --config "$config" --out "$out" "${threads[@]}"
  tools/publish-study.sh "$out" "$published"
}

for stage in ${STAGES:-1 2}; do
  if [[ "$stage" == 1b ]]; then
    run regime-map studies/stage1b-regimes.json study-out/stage1b-regimes docs/atm-study/stage1b/regimes
    run study studies/stage1b.json study-out/stage1b docs/atm-study/stage1b/study
    run study studies/stage1b-second.json study-out/stage1b-second docs/atm-study/stage1b/second
    continue
  fi
  corpus="$(tools/fetch-corpus.sh)"
  if [[ "$stage" == 2 ]]; then
    if [[ ! -f data/minilm-l3/all/acts_00011.npy ]]; then
      $atmsae harvest --out data/minilm-l3/all --layer 3 --tokens 1150000 --shard-tokens 100000 --corpus "$corpus"
    fi
    mkdir -p data/minilm-l3/train data/minilm-l3/eval
    for i in $(seq 0 11); do
      f=$(printf '%05d' "$i"); part=train; (( i >= 10 )) && part=eval
      ln -sf "../all/acts_$f.npy" "data/minilm-l3/$part/"; ln -sf "../all/meta_$f.tsv" "data/minilm-l3/$part/"
    done
    if [[ ! -f data/pos/probe_set.json ]]; then
      $atmsae harvest --probe-set pos --out data/pos --layer 3 --files 30 --corpus "$corpus"
    fi
  fi
  run study "studies/stage$stage.json" "study-out/stage$stage" "docs/atm-study/stage$stage"
done
