#!/usr/bin/env bash
# Copies a study's results into the repository: publish-study.sh STUDY_OUT DEST
#   DEST gets study.md, study.json, the Pareto PNGs (a regime map: map.md, map.json, map.png) and every run's
#   result.json + train_config.json under the same path below runs/ (no weights), which is what `atmsae study` and
#   `atmsae regime-map` need to reuse a finished run and what their reports are computed from.
set -euo pipefail
src="${1:?usage: publish-study.sh STUDY_OUT DEST}"; dest="${2:?usage: publish-study.sh STUDY_OUT DEST}"
mkdir -p "$dest/runs"
for f in study.md study.json pareto-confirm.png pareto-screen.png map.md map.json map.png; do
  [[ -f "$src/$f" ]] && cp "$src/$f" "$dest/"
done
count=0
while IFS= read -r result; do
  run="$(dirname "$result")"; rel="${run#"$src"/}"
  mkdir -p "$dest/$rel"
  cp "$run/result.json" "$run/train_config.json" "$dest/$rel/"
  count=$((count + 1))
done < <(find "$src/runs" -name result.json | sort)
echo "published $count run(s) of $src to $dest"
