#!/usr/bin/env bash
# make bench: loader and training throughput on this machine, peers (numpy + OpenBLAS, PyTorch CPU) run in the same
# invocation.
# Figures go to bench-out/ (JSON + Markdown); copy the tables into the README's performance section with date/machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java_home="$("$root/bin/find-jdk")"
out="${BENCH_OUT:-$root/bench-out}"
mkdir -p "$out"
cp="$root/benchmarks/target/atmsae-benchmarks.jar:$root/java/target/atmsae.jar:$root/java/target/lib/*"
run() {
  # BENCH_JAVA_OPTS: extra JVM flags, e.g. -XX:UseAVX=2 (with OPENBLAS_CORETYPE=Haswell) to emulate an AVX2 machine
  "$java_home/bin/java" ${BENCH_JAVA_OPTS:-} --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx8g -cp "$cp" "$@" \
    2> >(grep -v --line-buffered '^WARNING: Using incubator modules' >&2)
}
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "== loader throughput"
run dev.atmsae.bench.LoaderBench "$out/loader"
# The PyTorch CPU peer runs under Debian's python3-torch (/usr/bin/python3): installed here when apt is usable.
if /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  echo "== PyTorch peer: $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "== installing python3-torch (apt) for the PyTorch CPU peer..."
  (apt-get install -y -q python3-torch >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q python3-torch >/dev/null 2>&1; }) \
    && echo "== python3-torch installed" \
    || echo "== could not install python3-torch: the PyTorch peer is skipped"
else
  echo "== python3-torch is not installed and apt is not usable here (needs root): the PyTorch peer is skipped"
fi
echo "== training throughput (atmsae CPU engine vs numpy and PyTorch peers, same run)"
run dev.atmsae.bench.TrainBench --out "$out/train" ${TRAIN_BENCH_ARGS:-}
echo "== results in $out"
