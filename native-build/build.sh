#!/usr/bin/env bash
# Compiles cuda/*.cu into one fatbin (sm_80, sm_90, sm_90a SASS + compute_90 PTX) that the core jar embeds as
# the resource dev/atmsae/engine/cuda/atmsae.fatbin. Without nvcc it says so and exits 0 (the CPU engine needs none).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/native-build/out/dev/atmsae/engine/cuda"
NVCC="${NVCC:-$(command -v nvcc || true)}"
# ATMSAE_NATIVE=gpu-only (make demo): compile only where a CUDA driver could run the kernels — nvcc takes ~12 s.
if [[ "${ATMSAE_NATIVE:-}" == gpu-only && -n "$NVCC" ]] && ! command -v nvidia-smi >/dev/null \
   && ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so'; then
  echo "native-build: no NVIDIA driver here; skipping the CUDA kernels for this build (make build compiles them)"
  exit 0
fi
if [[ -z "$NVCC" ]]; then
  echo "native-build: nvcc not found; skipping the CUDA kernels (the CUDA engine will report 'no fatbin')"
  exit 0
fi
shopt -s nullglob
sources=("$root"/cuda/*.cu)
if (( ${#sources[@]} == 0 )); then
  echo "native-build: no kernels in cuda/ yet"; exit 0
fi
mkdir -p "$out"
fatbin="$out/atmsae.fatbin"
# Rebuild only when a source changed.
if [[ -f "$fatbin" ]]; then
  stale=0
  for f in "$root"/cuda/*.cu "$root"/cuda/*.cuh "$0"; do [[ "$f" -nt "$fatbin" ]] && stale=1; done
  (( stale == 0 )) && { echo "native-build: $fatbin is up to date"; exit 0; }
fi
echo "native-build: compiling ${#sources[@]} kernel files with $("$NVCC" --version | tail -1)"
"$NVCC" -O3 -std=c++17 -fatbin -I "$root/cuda" \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_90,code=compute_90 \
  -rdc=false -o "$fatbin.tmp" "$root/cuda/atmsae_kernels.cu"
mv "$fatbin.tmp" "$fatbin"
# ATMSAE_PTXAS_VERBOSE=1: print registers / spills / shared memory per kernel for sm_90 (the H100/H200 target).
if [[ -n "${ATMSAE_PTXAS_VERBOSE:-}" ]]; then
  "$NVCC" -O3 -std=c++17 -cubin -arch=sm_90 -Xptxas -v -I "$root/cuda" -o /dev/null "$root/cuda/atmsae_kernels.cu" 2>&1 \
    | awk "/Compiling entry/{split(\$0, q, \"'\"); name=q[2]} /Used/{sub(/.*Used/, \"Used\"); printf \"  %-26s %s\\n\", name, \$0}"
fi
echo "native-build: wrote $fatbin ($(stat -c %s "$fatbin") bytes)"
