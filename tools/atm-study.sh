#!/usr/bin/env bash
# Runs both stages of the ATM study (issue 10; docs/atm-study.md) from a built checkout, resumably:
#   stage 1 on synthetic ground truth, then the MiniLM layer-3 harvest (1.15M Brown tokens: shards 0-9 train,
#   10-11 held out), the POS probe set (30 documents) and stage 2 on the best 3 stage-1 ATM configurations.
# Every step skips what is already there, so a killed run is continued by running this again. Each finished stage is
# published to docs/atm-study/stageN (report, JSON, plots, and every run's result.json + train_config.json); a fresh
# checkout starts from those published runs, so a study interrupted in one session continues in the next.
#   THREADS (default: all processors) CPU threads per study; STAGES (default "1 2").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
atmsae=bin/atmsae
threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")
corpus="$(tools/fetch-corpus.sh)"

for stage in ${STAGES:-1 2}; do
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
  out="study-out/stage$stage"; published="docs/atm-study/stage$stage"
  if [[ ! -d "$out/runs" && -d "$published/runs" ]]; then   # continue from the committed results
    mkdir -p "$out" && cp -r "$published/runs" "$out/"
  fi
  $atmsae study --config "studies/stage$stage.json" --out "$out" "${threads[@]}"
  tools/publish-study.sh "$out" "$published"
done
