#!/usr/bin/env bash
# make bench: loader and training throughput on this machine, peers (numpy + OpenBLAS) run in the same invocation.
# Figures go to bench-out/ (JSON + Markdown); copy the tables into the README's performance section with date/machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java_home="$("$root/bin/find-jdk")"
out="${BENCH_OUT:-$root/bench-out}"
mkdir -p "$out"
cp="$root/benchmarks/target/atmsae-benchmarks.jar:$root/java/target/atmsae.jar:$root/java/target/lib/*"
run() {
  "$java_home/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx8g -cp "$cp" "$@" \
    2> >(grep -v --line-buffered '^WARNING: Using incubator modules' >&2)
}
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "== loader throughput"
run dev.atmsae.bench.LoaderBench "$out/loader"
echo "== training throughput (atmsae CPU engine vs numpy peer)"
run dev.atmsae.bench.TrainBench --out "$out/train"
echo "== results in $out"
