#!/usr/bin/env bash
# Builds the GPU-host bundle: the GPU host has a driver, PyTorch and nvcc but no JDK or Maven (stack.md §7), so this
# ships a jlink'd Java 25 runtime, the core jar (with the fatbin inside), the benchmark jar and the runtime jars the
# GPU runners need, only JCuda's driver library from jcuda-natives, the PyTorch peer, and three runners:
#   gpu-check.sh  the whole GPU check in one command (self-test, long run, bench; tools/gpu-check.sh)
#   run-tests.sh  the GPU self-test (every kernel vs its float64 reference, exits non-zero on any failure)
#   run-bench.sh  GpuBench (kernel timings, training tokens/s, ceilings, the PyTorch peer in the same run)
# Output: device-bundle/atmsae-gpu/ and device-bundle/atmsae-gpu.tgz (carry the .tgz to a GPU host, untar, run).
# Leaves out ONNX Runtime and the harvest module (CPU-only work). Fails if the tree exceeds 64 MiB.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
JAVA_HOME="${JAVA_HOME:-$(bin/find-jdk)}"
export JAVA_HOME
limit_mb=64
core="java/target/atmsae.jar"
bench="benchmarks/target/atmsae-benchmarks.jar"
# Always repackage (incremental, seconds) so the bundle never carries stale jars; DEVICE_BUNDLE_SKIP_BUILD=1 skips.
if [[ -z "${DEVICE_BUNDLE_SKIP_BUILD:-}" || ! -f "$core" || ! -f "$bench" || ! -d java/target/lib ]]; then
  native-build/build.sh
  MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}" mvn -B -q -pl java,benchmarks -am package -DskipTests
fi
listing="$(unzip -l "$core")"   # not piped into grep -q: with pipefail, unzip's SIGPIPE would fail the test
if [[ "$listing" != *dev/atmsae/engine/cuda/atmsae.fatbin* ]]; then
  echo "device-bundle: $core has no fatbin (was nvcc missing at build time?); run native-build/build.sh and rebuild" >&2
  exit 1
fi

out="device-bundle/atmsae-gpu"
rm -rf "$out" "device-bundle/atmsae-gpu.tgz"
mkdir -p "$out/lib" "$out/peers"

# 1. Java runtime: the modules the GPU runners use (FFM is in java.base; java.sql because Jackson links it;
#    java.desktop for the long run's PNG curves, drawn headless by XChart through report/Plots).
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.desktop,java.logging,java.management,java.sql,jdk.management,jdk.unsupported,jdk.incubator.vector \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$out/jre" \
  --exclude-files='**/libsplashscreen.so,**/libawt_xawt.so,**/libjsound.so,**/libjavajpeg.so'
# Native symbol tables are for debuggers only (libjvm.so alone carries 5 MB of them); keep the bundle small.
if command -v strip >/dev/null; then
  find "$out/jre" -name '*.so' -exec strip --strip-unneeded {} +
fi

# 2. Jars: core + benchmarks + runtime deps, without jcuda-natives (26 MB unpacked, mostly NVRTC/PTX compilers that
#    cannot read CUDA 13 PTX anyway), without ONNX Runtime / tokenizers (harvest only), without the OpenBLAS natives
#    and with XChart but without its vector/PDF export stack (PDFBox and friends: only PNGs are drawn here).
cp "$core" "$bench" "$out/lib/"
for jar in java/target/lib/*.jar benchmarks/target/lib/*.jar; do
  [[ -f "$jar" ]] || continue
  name="$(basename "$jar")"
  case "$name" in
    jcuda-natives-*|onnxruntime-*|tokenizers-*|langchain4j-*|atmsae-*.jar|atmsae.jar) continue ;;
    # OpenBLAS natives (19 MB): the GPU host's CPU side uses the engine's pure-Java sgemm instead.
    openblas-*) continue ;;
    picocli-*|progressbar-*|jline-*) continue ;;   # the CLI's; no GPU runner uses them
    pdfbox-*|fontbox-*|graphics2d-*|VectorGraphics2D-*|animated-gif-lib-*|commons-logging-*) continue ;;
  esac
  cp -n "$jar" "$out/lib/"
done
# JCuda's LibUtils extracts /lib/libJCudaDriver-<ver>-linux-x86_64.so from the classpath: a jar holding only that,
# taken from the jcuda-natives Maven resolved for this build (${jcuda.version}, as the jcuda jar beside it).
shopt -s nullglob
natives_jars=(java/target/lib/jcuda-natives-*-linux-x86_64.jar)
jcuda_jars=(java/target/lib/jcuda-[0-9]*.jar)
shopt -u nullglob
if (( ${#natives_jars[@]} != 1 || ${#jcuda_jars[@]} != 1 )); then
  echo "device-bundle: expected one jcuda and one jcuda-natives jar in java/target/lib, found: ${jcuda_jars[*]} ${natives_jars[*]} (mvn clean, then rebuild)" >&2
  exit 1
fi
natives="$root/${natives_jars[0]}"
jcuda_version="$(basename "${jcuda_jars[0]}" .jar)"; jcuda_version="${jcuda_version#jcuda-}"
natives_version="$(basename "$natives" -linux-x86_64.jar)"; natives_version="${natives_version#jcuda-natives-}"
if [[ "$natives_version" != "$jcuda_version" ]]; then
  echo "device-bundle: jcuda $jcuda_version but jcuda-natives $natives_version in java/target/lib" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && unzip -q "$natives" 'lib/libJCudaDriver-*-linux-x86_64.so' && "$JAVA_HOME/bin/jar" --create --file jcuda-driver-natives.jar lib)
cp "$tmp/jcuda-driver-natives.jar" "$out/lib/"

# 3. The PyTorch peer and the runners.
cp benchmarks/peers/torch_sae.py "$out/peers/"
cp tools/gpu-check.sh "$out/gpu-check.sh"
flags='--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED'
cat > "$out/run-tests.sh" <<RUN
#!/usr/bin/env bash
# GPU self-test: every CUDA kernel against its float64 reference; exit 0 = all passed, 1 = a failure, 2 = no GPU.
here="\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
exec "\$here/jre/bin/java" $flags -Xmx8g -cp "\$here/lib/*" dev.atmsae.gpucheck.GpuSelfTest "\$@"
RUN
cat > "$out/run-bench.sh" <<RUN
#!/usr/bin/env bash
# GPU benchmarks + the PyTorch peer in the same invocation; results (Markdown + JSON) go to \${OUT:-./bench-out}.
here="\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
py=/opt/torch/.venv/bin/python
[[ -x "\$py" ]] || py="\$(command -v python3 || true)"
exec "\$here/jre/bin/java" $flags -Xmx16g -cp "\$here/lib/*" dev.atmsae.bench.GpuBench \\
  --out "\${OUT:-\$PWD/bench-out}" --python "\$py" --torch-peer "\$here/peers/torch_sae.py" "\$@"
RUN
chmod +x "$out/run-tests.sh" "$out/run-bench.sh" "$out/gpu-check.sh"

# 4. Smoke test here: the runtime starts, finds the classes, carries the JCuda driver library of JCuda's own version
#    (and loads it as far as a host without libcuda.so.1 allows), draws the long run's PNGs with two CPU engines,
#    the self-test answers (no GPU here: exit 2) and gpu-check.sh runs through to its summary (exit 2 here).
if ! "$out/jre/bin/java" $flags -cp "$out/lib/*" dev.atmsae.gpucheck.GpuSelfTest --check-bundle >"$tmp/jcuda.log" 2>&1; then
  echo "device-bundle: the bundle's JCuda binding is unusable:" >&2
  cat "$tmp/jcuda.log" >&2
  exit 1
fi
if ! "$out/jre/bin/java" $flags -cp "$out/lib/*" dev.atmsae.bench.GpuLongRun --engines cpu-java,cpu --steps 5 --d 16 \
    --n 32 --batch 8 --k 4 --archs topk --out "$tmp/longrun" >"$tmp/longrun.log" 2>&1 \
    || [[ ! -s "$tmp/longrun/longrun-loss.png" ]]; then
  echo "device-bundle: the bundled runtime failed the long run's CPU smoke test:" >&2
  cat "$tmp/longrun.log" >&2
  exit 1
fi
set +e
OUT="$tmp/gpu-check" "$out/gpu-check.sh" --skip-longrun --skip-bench >"$tmp/gpu-check.log" 2>&1
check_rc=$?
set -e
if (( check_rc != 0 && check_rc != 2 )) || [[ ! -s "$tmp/gpu-check/summary.json" ]]; then
  echo "device-bundle: gpu-check.sh failed to run through to its summary (exit $check_rc):" >&2
  cat "$tmp/gpu-check.log" >&2
  exit 1
fi
set +e
"$out/run-tests.sh" >"$tmp/selftest.log" 2>&1
rc=$?
set -e
if (( rc != 0 && rc != 2 )) && ! grep -q '^PASS' "$tmp/selftest.log"; then
  echo "device-bundle: the bundled runtime failed to run the self-test:" >&2
  cat "$tmp/selftest.log" >&2
  exit 1
fi
echo "device-bundle: self-test here: $(grep -E '^(probe|SKIPPED|[0-9]+/[0-9]+)' "$tmp/selftest.log" | tr '\n' ' ')"
# 5. The bundle's self-test on the emulated CUDA device (cuda/README.md), where it is built: the bundled runtime runs
#    every check through JCuda and cuBLAS as it will on the GPU host. The emulator itself is not shipped.
emu="$root/native-build/out/emu/plain"
if [[ -f "$emu/libcuda.so.1" ]]; then
  if ! ATMSAE_CUDA_EMULATOR="$emu" "$out/run-tests.sh" >"$tmp/selftest-emu.log" 2>&1; then
    echo "device-bundle: the bundle's self-test failed on the emulated CUDA device:" >&2
    grep -v '^PASS' "$tmp/selftest-emu.log" >&2
    exit 1
  fi
  echo "device-bundle: self-test on the emulated CUDA device: $(grep -E '^[0-9]+/[0-9]+' "$tmp/selftest-emu.log")"
else
  echo "device-bundle: no emulated CUDA device built (native-build/emu/build.sh): the bundle's self-test ran only as above"
fi
echo "device-bundle: $(grep '^jcuda:' "$tmp/jcuda.log"); gpu-check.sh here: exit $check_rc (2 = no device)"

tar -C device-bundle -czf device-bundle/atmsae-gpu.tgz atmsae-gpu
size_kb="$(du -sk "$out" | cut -f1)"
tgz_kb="$(du -k device-bundle/atmsae-gpu.tgz | cut -f1)"
echo "device-bundle: $out = $((size_kb / 1024)) MiB ($(ls "$out/lib" | wc -l) jars), atmsae-gpu.tgz = $((tgz_kb / 1024)) MiB"
if (( size_kb > limit_mb * 1024 )); then
  echo "device-bundle: over the ${limit_mb} MiB budget" >&2
  exit 1
fi
