#!/usr/bin/env bash
# The whole GPU check in one command, run from the device bundle on the GPU host (no JDK, no network; the bundle's
# jlink'd Java 25 and the host's PyTorch venv):
#   1. self-test   GpuSelfTest: probe, cuBLAS, JCuda binds the driver, the fatbin loads, every CudaParity check, the
#                  ATM masks bitwise equal to the CPU's, StepParity for every architecture
#   2. long run    GpuLongRun: every architecture 1000 steps on CUDA (FP32) and on the CPU from the same seed,
#                  d = 128, n = 1024: final loss within 1%, the L0 trajectory alike, curves as PNG
#   3. bench       GpuBench (run-bench.sh) at d = 2304, B = 4096, n = 16384 and 65536 against PyTorch eager and
#                  torch.compile at equal precision, with the encoder product's fraction of the cuBLAS ceiling;
#                  in slices, most important first, each started only when the budget still holds it
# Everything goes to $OUT (default ./gpu-check-out): one folder per part (JSON + Markdown + logs), summary.json and
# summary.md. The whole run stays within --budget-s (default 520 s, under the device's 10-minute command limit).
#
# Usage: gpu-check.sh [--budget-s S] [--skip-selftest] [--skip-longrun] [--skip-bench] [--longrun-steps N]
#                     [--bench-slices a,b,c,d] [--bench-steps N]
#   slices: a = n 16384 TF32 (+ the kernel table)   b = n 65536 TF32   c = both widths BF16   d = both widths FP32
# Exit: 0 every part that ran passed, 1 a part failed or timed out, 2 no CUDA device (only the probe ran).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$PWD/gpu-check-out}"
budget=520
skip_selftest=0 skip_longrun=0 skip_bench=0
longrun_steps=1000
bench_slices="a,b,c,d"
bench_steps=20
while (( $# )); do
  case "$1" in
    --budget-s) budget="$2"; shift 2 ;;
    --skip-selftest) skip_selftest=1; shift ;;
    --skip-longrun) skip_longrun=1; shift ;;
    --skip-bench) skip_bench=1; shift ;;
    --longrun-steps) longrun_steps="$2"; shift 2 ;;
    --bench-slices) bench_slices="$2"; shift 2 ;;
    --bench-steps) bench_steps="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
for f in jre/bin/java run-tests.sh run-bench.sh; do
  [[ -x "$here/$f" ]] || { echo "gpu-check: $here/$f missing: run this from an unpacked atmsae-gpu bundle" >&2; exit 64; }
done
mkdir -p "$out"
java=("$here/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$here/lib/*")
start=$SECONDS
left() { echo $(( budget - (SECONDS - start) )); }
min() { (( $1 < $2 )) && echo "$1" || echo "$2"; }

parts=()        # "name|status|rc|seconds|folder" per part, in order
failed=0
# run_part NAME LIMIT_S CMD...: runs CMD (its output to NAME/NAME.log and the terminal) under a hard time limit.
run_part() {
  local name="$1" limit="$2"; shift 2
  local dir="$out/$name" t0=$SECONDS rc status
  mkdir -p "$dir"
  echo "== gpu-check: $name (limit ${limit} s, $(left) s of the budget left)"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$dir/$name.log"
  rc=${PIPESTATUS[0]}
  case "$rc" in
    0) status=passed ;;
    2) status="no CUDA device" ;;
    124|137) status="timed out after ${limit} s"; failed=1 ;;
    *) status="failed (exit $rc)"; failed=1 ;;
  esac
  parts+=("$name|$status|$rc|$((SECONDS - t0))|$dir")
  echo "== gpu-check: $name: $status in $((SECONDS - t0)) s"
  return "$rc"
}
skip_part() { parts+=("$1|skipped: $2|-|0|"); echo "== gpu-check: $1 skipped: $2"; }

{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; } \
  >"$out/gpu.txt" 2>/dev/null || echo "nvidia-smi not available" >"$out/gpu.txt"
no_device=0

# 1. Self-test (about a minute; everything else depends on the device working).
if (( skip_selftest )); then
  skip_part selftest "--skip-selftest"
else
  run_part selftest "$(min 180 "$(left)")" "${java[@]}" -Xmx8g dev.atmsae.gpucheck.GpuSelfTest --out "$out/selftest"
  (( $? == 2 )) && no_device=1
fi

# 2. Long run (CUDA and the CPU, 1000 steps x 5 architectures at a small shape); keeps 200 s for the bench.
if (( no_device )); then
  skip_part longrun "no CUDA device"
elif (( skip_longrun )); then
  skip_part longrun "--skip-longrun"
elif (( $(left) < 60 )); then
  skip_part longrun "budget spent"
else
  limit=$(( skip_bench ? $(left) : $(min 240 $(( $(left) - 200 )) ) ))
  (( limit < 60 )) && limit=60
  run_part longrun "$limit" "${java[@]}" -Xmx8g dev.atmsae.bench.GpuLongRun --out "$out/longrun" \
    --steps "$longrun_steps"
fi

# 3. Bench slices, most important first; a slice starts only with 100 s left and gets what is left (less 10 s).
declare -A slice_args=(
  [a]="--widths 16384 --precisions tf32"
  [b]="--widths 65536 --precisions tf32 --no-kernels"
  [c]="--widths 16384,65536 --precisions bf16 --no-kernels"
  [d]="--widths 16384,65536 --precisions fp32 --no-kernels --torch-modes eager"
)
IFS=',' read -ra slices <<<"$bench_slices"
for s in "${slices[@]}"; do
  name="bench-$s"
  if [[ -z "${slice_args[$s]:-}" ]]; then
    skip_part "$name" "unknown slice (a, b, c, d)"
  elif (( no_device )); then
    skip_part "$name" "no CUDA device"
  elif (( skip_bench )); then
    skip_part "$name" "--skip-bench"
  elif (( $(left) < 100 )); then
    skip_part "$name" "budget spent (rerun with --skip-selftest --skip-longrun --bench-slices $s)"
  else
    limit=$(( $(left) - 10 ))
    # shellcheck disable=SC2086  # the slice's arguments split on purpose
    OUT="$out/$name" run_part "$name" "$limit" "$here/run-bench.sh" ${slice_args[$s]} --steps "$bench_steps" \
      --budget-s $(( limit - 15 ))
  fi
done

# Summary: the parts' verdicts (JSON) and their Markdown reports in one file.
{
  echo "# atmsae GPU check"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ); GPU: $(cat "$out/gpu.txt"); budget ${budget} s, used $((SECONDS - start)) s"
  echo
  echo "| part | status | s |"
  echo "|---|---|---|"
  for p in "${parts[@]}"; do IFS='|' read -r n st rc sec dir <<<"$p"; echo "| $n | $st | $sec |"; done
  echo
  for f in selftest/selftest.md longrun/longrun.md bench-a/gpu-bench.md bench-b/gpu-bench.md bench-c/gpu-bench.md \
           bench-d/gpu-bench.md; do
    [[ -f "$out/$f" ]] && { echo "---"; echo; sed 's/^# /### /' "$out/$f"; echo; }
  done
} >"$out/summary.md"
json_escape() { local s="${1//\\/\\\\}"; s="${s//\"/\\\"}"; printf '%s' "$s"; }
{
  echo "{"
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"gpu\": \"$(json_escape "$(tr '\n' ' ' <"$out/gpu.txt")")\","
  echo "  \"budget_s\": $budget, \"used_s\": $((SECONDS - start)),"
  echo "  \"parts\": ["
  sep=""
  for p in "${parts[@]}"; do
    IFS='|' read -r n st rc sec dir <<<"$p"
    printf '%s    {"part": "%s", "status": "%s", "exit": "%s", "seconds": %s, "dir": "%s"}' "$sep" "$n" \
      "$(json_escape "$st")" "$rc" "$sec" "$(json_escape "$dir")"
    sep=$',\n'
  done
  echo
  echo "  ]"
  echo "}"
} >"$out/summary.json"
echo "== gpu-check: done in $((SECONDS - start)) s; $out/summary.md"
(( no_device )) && exit 2
exit "$failed"
