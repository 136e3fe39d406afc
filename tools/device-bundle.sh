#!/usr/bin/env bash
# Builds the GPU-host bundle: the GPU host has a driver, PyTorch and nvcc but no JDK or Maven (stack.md §7), so this
# ships a jlink'd Java 25 runtime, the core jar (with the fatbin inside), the benchmark jar and the runtime jars the
# GPU runners need, only JCuda's driver library from jcuda-natives, the PyTorch peer, and two runners:
#   run-tests.sh  the GPU self-test (every kernel vs its float64 reference, exits non-zero on any failure)
#   run-bench.sh  GpuBench (kernel timings, training tokens/s, ceilings, the PyTorch peer in the same run)
# Output: device-bundle/atmsae-gpu/ and device-bundle/atmsae-gpu.tgz (carry the .tgz to a GPU host, untar, run).
# Leaves out ONNX Runtime and the harvest module (CPU-only work). Fails if the tree exceeds 60 MB.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
JAVA_HOME="${JAVA_HOME:-$(bin/find-jdk)}"
export JAVA_HOME
limit_mb=60
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

# 1. Java runtime: the modules the GPU runners use (FFM is in java.base; java.sql because Jackson links it).
#    No java.desktop: nothing on the GPU path draws, and it would add ~10 MB.
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,java.sql,jdk.management,jdk.unsupported,jdk.incubator.vector \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$out/jre"

# 2. Jars: core + benchmarks + runtime deps, without jcuda-natives (26 MB unpacked, mostly NVRTC/PTX compilers that
#    cannot read CUDA 13 PTX anyway), without ONNX Runtime / tokenizers (harvest only) and without the plotting
#    stack (XChart, PDFBox: they need java.desktop, which the runtime leaves out), without the OpenBLAS natives.
cp "$core" "$bench" "$out/lib/"
for jar in java/target/lib/*.jar benchmarks/target/lib/*.jar; do
  [[ -f "$jar" ]] || continue
  name="$(basename "$jar")"
  case "$name" in
    jcuda-natives-*|onnxruntime-*|tokenizers-*|langchain4j-*|atmsae-*.jar|atmsae.jar) continue ;;
    # OpenBLAS natives (19 MB): the GPU host's CPU side uses the engine's pure-Java sgemm instead.
    openblas-*) continue ;;
    xchart-*|pdfbox-*|fontbox-*|graphics2d-*|VectorGraphics2D-*|animated-gif-lib-*|commons-logging-*) continue ;;
  esac
  cp -n "$jar" "$out/lib/"
done
# JCuda's LibUtils extracts /lib/libJCudaDriver-<ver>-linux-x86_64.so from the classpath: a jar holding only that.
natives="$(ls "$HOME"/.m2/repository/org/jcuda/jcuda-natives/*/jcuda-natives-*-linux-x86_64.jar | sort | tail -1)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && unzip -q "$natives" 'lib/libJCudaDriver-*-linux-x86_64.so' && "$JAVA_HOME/bin/jar" --create --file jcuda-driver-natives.jar lib)
cp "$tmp/jcuda-driver-natives.jar" "$out/lib/"

# 3. The PyTorch peer and the runners.
cp benchmarks/peers/torch_sae.py "$out/peers/"
flags='--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED'
cat > "$out/run-tests.sh" <<RUN
#!/usr/bin/env bash
# GPU self-test: every CUDA kernel against its float64 reference; exit 0 = all passed, 1 = a failure, 2 = no GPU.
here="\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
exec "\$here/jre/bin/java" $flags -Xmx8g -cp "\$here/lib/*" dev.atmsae.engine.cuda.GpuSelfTest "\$@"
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
chmod +x "$out/run-tests.sh" "$out/run-bench.sh"

# 4. Smoke test here: the runtime starts, finds the classes, and the self-test answers (no GPU here: exit 2).
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

tar -C device-bundle -czf device-bundle/atmsae-gpu.tgz atmsae-gpu
size_kb="$(du -sk "$out" | cut -f1)"
tgz_kb="$(du -k device-bundle/atmsae-gpu.tgz | cut -f1)"
echo "device-bundle: $out = $((size_kb / 1024)) MB ($(ls "$out/lib" | wc -l) jars), atmsae-gpu.tgz = $((tgz_kb / 1024)) MB"
if (( size_kb > limit_mb * 1024 )); then
  echo "device-bundle: over the ${limit_mb} MB budget" >&2
  exit 1
fi
