#!/usr/bin/env bash
# Installs what atmsae needs beyond Maven's dependencies: OpenBLAS for the CPU engine's fast path.
# Best effort: without it (or without root/apt) the CPU engine uses its pure-Java BLAS and says so.
set -uo pipefail
if ls /usr/lib/x86_64-linux-gnu/libopenblas.so.0 >/dev/null 2>&1 || ldconfig -p 2>/dev/null | grep -q libopenblas.so.0; then
  exit 0
fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "atmsae: installing OpenBLAS (libopenblas0-pthread) for the CPU engine..."
  (apt-get install -y -q libopenblas0-pthread >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libopenblas0-pthread >/dev/null 2>&1; }) \
    && echo "atmsae: OpenBLAS installed" \
    || echo "atmsae: could not install OpenBLAS; the CPU engine will use its pure-Java BLAS"
else
  echo "atmsae: OpenBLAS not found and cannot install it here; the CPU engine will use its pure-Java BLAS"
fi
exit 0
