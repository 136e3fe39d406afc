#!/usr/bin/env bash
# make bench: loader and training throughput on this machine, peers (numpy + OpenBLAS, PyTorch CPU on OpenBLAS) run in
# the same invocation, interleaved with atmsae in paired repetitions (TrainBench: medians with min–max).
# Figures go to bench-out/ (JSON + Markdown); the README's Performance section holds one current table per machine kind.
#
# Settings (environment):
#   BENCH_KERNELS=env     (default) OpenBLAS kernels as the environment sets them (OPENBLAS_CORETYPE, if any)
#                 native  OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the training bench alone, for atmsae and
#                         the peers alike: the kernels each OpenBLAS detects on this CPU
#                 both    one training bench each way (twice the time)
#   BENCH_JAVA_OPTS       extra JVM flags, e.g. -XX:UseAVX=2 (with OPENBLAS_CORETYPE=Haswell) to emulate an AVX2 machine
#   BENCH_LOADER=0        skip the loader benchmark
#   TRAIN_BENCH_ARGS      TrainBench options, e.g. "--reps 7 --shapes 384x6144,768x12288"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java_home="$("$root/bin/find-jdk")"
out="${BENCH_OUT:-$root/bench-out}"
kernels="${BENCH_KERNELS:-env}"
case "$kernels" in env|native|both) ;; *) echo "bench: BENCH_KERNELS must be env, native or both, not '$kernels'" >&2; exit 1 ;; esac
mkdir -p "$out"
started=$SECONDS
cp="$root/benchmarks/target/atmsae-benchmarks.jar:$root/java/target/atmsae.jar:$root/java/target/lib/*"
run() { # [-u VAR]... CLASS ARGS: a bench class, with VARs removed from its environment
  local unset=()
  while [[ "$1" == -u ]]; do unset+=(-u "$2"); shift 2; done
  env "${unset[@]}" "$java_home/bin/java" ${BENCH_JAVA_OPTS:-} --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -Xmx8g -cp "$cp" "$@" \
    2> >(grep -v --line-buffered '^WARNING: Using incubator modules' >&2)
}
apt_ok() { [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; }
apt_install() {
  apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/dev/null 2>&1; }
}
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)," \
  "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
if [[ "${BENCH_LOADER:-1}" != 0 ]]; then
  echo "== loader throughput"
  run dev.atmsae.bench.LoaderBench "$out/loader"
fi

# The PyTorch CPU peer runs under Debian's python3-torch (/usr/bin/python3). Installed alone, apt satisfies its BLAS
# dependency with the reference BLAS (libblas3: one encoder product at a few GFLOP/s, 30x below numpy), so Debian's
# OpenBLAS alternative (libopenblas0-pthread) goes in with it; its priority makes libblas.so.3 point at OpenBLAS.
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  if apt_ok; then
    echo "== installing python3-torch and libopenblas0-pthread (apt) for the PyTorch CPU peer..."
    apt_install python3-torch libopenblas0-pthread && echo "== installed" \
      || echo "== could not install python3-torch: the PyTorch peer is skipped"
  else
    echo "== python3-torch is not installed and apt is not usable here (needs root): the PyTorch peer is skipped"
  fi
elif ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q 'install ok installed' && apt_ok; then
  echo "== installing libopenblas0-pthread (apt) so that PyTorch runs on OpenBLAS, not the reference BLAS..."
  apt_install libopenblas0-pthread || echo "== could not install libopenblas0-pthread"
fi
blas3="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
if [[ -n "$blas3" && "$blas3" != *openblas* ]]; then
  echo "== libblas.so.3 is $blas3, not OpenBLAS (update-alternatives --config libblas.so.3-x86_64-linux-gnu):" \
    "the PyTorch peer will be slow and the bench will exclude it"
fi
if /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  echo "== PyTorch peer: $(cd "$root/benchmarks/peers" && /usr/bin/python3 -c \
    'import torch, peer_serve; print("torch", torch.__version__, "on", peer_serve.blas_info()["blas"])')"
fi

train() { # DIR [-u VAR]...
  local dir="$1"; shift
  echo "== training throughput (atmsae CPU engine vs numpy and PyTorch peers, paired repetitions) -> $dir"
  run "$@" dev.atmsae.bench.TrainBench --out "$dir" ${TRAIN_BENCH_ARGS:-}
}
if [[ "$kernels" != native ]]; then
  train "$out/train"
  if [[ -n "${OPENBLAS_CORETYPE:-}" && "$kernels" == env ]]; then
    echo "== OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE chose the kernels above; BENCH_KERNELS=native (or both) measures the" \
      "kernels each OpenBLAS detects on this CPU"
  fi
fi
if [[ "$kernels" != env ]]; then
  train "$out/train-native" -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
fi
echo "== results in $out ($(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s)"
