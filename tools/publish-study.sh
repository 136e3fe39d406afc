#!/usr/bin/env bash
# Copies a study's results into the repository: publish-study.sh STUDY_OUT DEST
#   DEST gets study.md, study.json, the Pareto PNGs and runs/<run>/{result.json,train_config.json} (no weights), which
#   is what `atmsae study` needs to reuse a finished run and what its report is computed from.
set -euo pipefail
src="${1:?usage: publish-study.sh STUDY_OUT DEST}"; dest="${2:?usage: publish-study.sh STUDY_OUT DEST}"
mkdir -p "$dest/runs"
for f in study.md study.json pareto-confirm.png pareto-screen.png; do
  [[ -f "$src/$f" ]] && cp "$src/$f" "$dest/"
done
for run in "$src"/runs/*/; do
  name="$(basename "$run")"
  [[ -f "$run/result.json" ]] || continue
  mkdir -p "$dest/runs/$name"
  cp "$run/result.json" "$run/train_config.json" "$dest/runs/$name/"
done
echo "published $(ls "$dest/runs" | wc -l) run(s) of $src to $dest"
