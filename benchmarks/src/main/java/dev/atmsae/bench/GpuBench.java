package dev.atmsae.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atmsae.core.ArchKind;
import dev.atmsae.arch.Sae;
import dev.atmsae.arch.SaeFactory;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cuda.CudaAvailability;
import dev.atmsae.engine.cuda.CudaEngine;
import dev.atmsae.engine.cuda.CudaTimer;
import dev.atmsae.engine.cuda.Precision;
import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * GPU benchmarks (benchmarks.md), all in one invocation on one device:
 * <ol>
 *   <li>ceilings: a large cuBLAS product per precision (TFLOP/s) and a large device-to-device copy (TB/s, bytes
 *       read + written);</li>
 *   <li>per-kernel CUDA-event timings at d = 2304, n = 16384, B = 4096 (HdrHistogram p50 / p99 / max);</li>
 *   <li>training throughput (tokens/s) for every architecture at n = 16384 and 65536, per precision, with the
 *       encoder product's and the whole step's achieved fraction of the measured product ceiling;</li>
 *   <li>the PyTorch peer ({@code peers/torch_sae.py}, eager and torch.compile, the same precisions) run as a child
 *       process in the same invocation, and the ratios at equal precision.</li>
 * </ol>
 * Writes gpu-bench.json and gpu-bench.md to {@code --out}.
 *
 * <p>Usage: {@code GpuBench [--out DIR] [--python PY] [--torch-peer torch_sae.py] [--widths 16384,65536]
 * [--batch 4096] [--d 2304] [--steps 30] [--precisions fp32,tf32,bf16] [--archs atm,topk,batchtopk,jumprelu,relu,matryoshka]
 * [--torch-modes eager,compile | none] [--torch-timeout-s 480] [--budget-s S] [--no-kernels] [--quick]};
 * {@code --budget-s} shortens the peer's timeout so that the whole invocation ends within S seconds. A device
 * command is limited to 10 minutes, so the full matrix is meant to be run in slices (e.g. one precision or one width
 * per invocation, each writing its own --out): tools/gpu-check.sh runs them in order within its budget.
 */
public final class GpuBench {
    private static final int K = 64;

    private final Map<String, String> opts;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final ObjectNode report = json.createObjectNode();
    private final StringBuilder md = new StringBuilder();
    private long rng = 0;
    private final long started = System.nanoTime();

    private GpuBench(Map<String, String> opts) {
        this.opts = opts;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + a);
            }
            boolean flag = a.equals("--quick") || a.equals("--no-kernels");
            opts.put(a.substring(2), flag ? "true" : args[++i]);
        }
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (!probe.available()) {
            System.out.println("SKIPPED: no CUDA device: " + probe.reason());
            System.exit(2);
        }
        new GpuBench(opts).run();
    }

    private String opt(String key, String dflt) {
        return opts.getOrDefault(key, dflt);
    }

    private boolean quick() {
        return opts.containsKey("quick");
    }

    private void run() throws Exception {
        Path out = Path.of(opt("out", "bench-out"));
        Files.createDirectories(out);
        int d = Integer.parseInt(opt("d", "2304"));
        int batch = Integer.parseInt(opt("batch", "4096"));
        int steps = Integer.parseInt(opt("steps", quick() ? "8" : "30"));
        int[] widths = Arrays.stream(opt("widths", quick() ? "16384" : "16384,65536").split(","))
                .mapToInt(Integer::parseInt).toArray();
        List<Precision> precisions = Arrays.stream(opt("precisions", "fp32,tf32,bf16").split(","))
                .map(s -> Precision.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
        List<ArchKind> archs = Arrays.stream(opt("archs", "atm,topk,batchtopk,jumprelu,relu,matryoshka").split(","))
                .map(ArchKind::parse).toList();

        try (CudaEngine engine = CudaEngine.open(0, Precision.FP32)) {
            report.put("date", Instant.now().toString());
            report.put("device", engine.deviceName());
            report.put("engine", engine.describe());
            report.put("d", d);
            report.put("batch", batch);
            md.append("# atmsae GPU benchmark\n\n").append(Instant.now()).append(", ").append(engine.describe())
                    .append("\n\n");
            Map<Precision, Double> peak = ceilings(engine, precisions);
            if (!opts.containsKey("no-kernels")) {
                kernels(engine, d, 16384, batch);
            }
            ObjectNode ours = training(engine, d, batch, widths, steps, precisions, archs, peak);
            JsonNode torch = torchPeer(out, d, batch, widths, steps, precisions, archs);
            ratios(ours, torch);
        }
        Files.writeString(out.resolve("gpu-bench.json"), json.writeValueAsString(report));
        Files.writeString(out.resolve("gpu-bench.md"), md.toString());
        System.out.println(md);
        System.out.println("wrote " + out.resolve("gpu-bench.json") + " and gpu-bench.md");
    }

    // ------------------------------------------------------------------------------------------------ ceilings

    private Map<Precision, Double> ceilings(CudaEngine e, List<Precision> precisions) {
        int s = quick() ? 4096 : 8192;
        Map<Precision, Double> peak = new LinkedHashMap<>();
        ObjectNode node = report.putObject("ceilings");
        md.append("## Device ceilings (measured in this run)\n\n| what | value |\n|---|---|\n");
        try (Tensor a = random(e, s, s); Tensor b = random(e, s, s); Tensor c = e.allocF32(s, s); CudaTimer t = e.newTimer()) {
            for (Precision p : precisions) {
                e.setPrecision(p);
                Histogram h = time(t, 3, 10, () -> e.gemm(false, false, 1f, a, b, 0f, c));
                double tflops = 2.0 * s * s * s / (h.getValueAtPercentile(50) * 1e-9) / 1e12;
                peak.put(p, tflops);
                node.put("gemm_" + p.name().toLowerCase(Locale.ROOT) + "_tflops", tflops);
                md.append(String.format(Locale.ROOT, "| cuBLAS %d³ product, %s | %.1f TFLOP/s |%n", s, p, tflops));
            }
            e.setPrecision(Precision.FP32);
        }
        long floats = (quick() ? 64L : 256L) << 20;   // 1 GiB per buffer in the full run
        try (Tensor src = random(e, (int) (floats >> 10), 1024); Tensor dst = e.allocF32((int) (floats >> 10), 1024); CudaTimer t = e.newTimer()) {
            Histogram h = time(t, 3, 20, () -> e.copy(src, dst));
            double tbps = 2.0 * floats * 4 / (h.getValueAtPercentile(50) * 1e-9) / 1e12;
            node.put("copy_tbps", tbps);
            md.append(String.format(Locale.ROOT, "| device copy %d MiB (read + write) | %.2f TB/s |%n%n",
                    floats * 4 >> 20, tbps));
        }
        return peak;
    }

    // ------------------------------------------------------------------------------------------------ kernels

    private void kernels(CudaEngine e, int d, int n, int b) {
        ArrayNode rows = report.putArray("kernels");
        md.append(String.format(Locale.ROOT, "## Kernels (d = %d, n = %d, B = %d, k = %d, FP32 products)%n%n", d, n, b, K));
        md.append("| kernel | p50 µs | p99 µs | max µs |\n|---|---|---|---|\n");
        try (Tensor x = random(e, b, d);
             Tensor xc = e.allocF32(b, d);
             Tensor bDec = random(e, 1, d);
             Tensor wEnc = random(e, n, d);
             Tensor bEnc = random(e, 1, n);
             Tensor h = e.allocF32(b, n);
             Tensor f = e.allocF32(b, n);
             Tensor f2 = e.allocF32(b, n);
             Tensor wDec = random(e, n, d);
             Tensor gW = e.allocF32(n, d);
             Tensor mW = e.allocF32(n, d);
             Tensor vW = e.allocF32(n, d);
             Tensor xhat = e.allocF32(b, d);
             Tensor err = e.allocF32(b, d);
             Tensor p = random(e, 1, n);
             Tensor dn = random(e, 1, n);
             Tensor a = e.allocF32(1, n);
             Tensor q = e.allocF32(1, n);
             Tensor rho = e.allocF32(1, n);
             Tensor gVal = e.allocF32(1, b * K);
             Tensor fires = e.allocI32(1, n);
             Tensor logTheta = e.allocF32(1, n);
             Tensor gLogTheta = e.allocF32(1, n);
             SparseCodes codes = SparseCodes.allocate(e, b, b * K);
             SparseCodes bcodes = SparseCodes.allocate(e, b, b * K);
             CudaTimer t = e.newTimer()) {
            e.normalizeRows(wDec);
            e.encodePre(x, bDec, wEnc, bEnc, xc, h);
            e.relu(h, f);
            e.topK(h, K, null, codes);
            e.fill(logTheta, -1f);
            e.scale(p, 0.1f);
            Map<String, Runnable> ks = new LinkedHashMap<>();
            ks.put("gemm encoder (B×d·dᵀ×n)", () -> e.gemm(false, true, 1f, xc, wEnc, 0f, h));
            ks.put("encodePre (center + gemm + bias)", () -> e.encodePre(x, bDec, wEnc, bEnc, xc, h));
            ks.put("encodePreRelu (fused epilogue)", () -> e.encodePreRelu(x, bDec, wEnc, bEnc, xc, h, f));
            ks.put("relu", () -> e.relu(h, f));
            ks.put("jumpRelu", () -> e.jumpRelu(h, logTheta, f));
            ks.put("topK k=64", () -> e.topK(h, K, null, codes));
            ks.put("batchTopK k·B", () -> e.batchTopK(h, K * b, bcodes));
            ks.put("sparseDecode", () -> e.sparseDecode(codes, wDec, bDec, xhat));
            ks.put("sparseDecodeBackward (sorted)", () -> e.sparseDecodeBackward(codes, err, wDec, gVal, gW));
            ks.put("sparseEncoderBackward (sorted)", () -> e.sparseEncoderBackward(codes, gVal, xc, gW, bEnc));
            ks.put("sparseDecodeBackward (atomic)", () -> {
                e.setSparseScatter(CudaEngine.SparseScatter.ATOMIC);
                e.sparseDecodeBackward(codes, err, wDec, gVal, gW);
                e.setSparseScatter(CudaEngine.SparseScatter.SORTED);
            });
            ks.put("sparseEncoderBackward (atomic)", () -> {
                e.setSparseScatter(CudaEngine.SparseScatter.ATOMIC);
                e.sparseEncoderBackward(codes, gVal, xc, gW, bEnc);
                e.setSparseScatter(CudaEngine.SparseScatter.SORTED);
            });
            ks.put("gemm decoder grad (fᵀ·err)", () -> e.gemm(true, false, 1f, f, err, 0f, gW));
            ks.put("atmStats", () -> e.atmStats(f, h, dn, a, q, rho));
            ks.put("atmMask (Philox)", () -> e.atmMask(f, p, 42, 7, 0, f2));
            ks.put("reluBackward", () -> e.reluBackward(f, h, a, f2));
            ks.put("jumpReluBackward", () -> e.jumpReluBackward(h, logTheta, f, 0.05f, 1e-4f, f2, gLogTheta));
            ks.put("colSum B×n", () -> e.colSum(f, 1f, a, false));
            ks.put("countFires", () -> e.countFires(f, fires));
            ks.put("adam n×d", () -> e.adam(wDec, gW, mW, vW, 1e-4f, 0.9f, 0.999f, 1e-8f, 3, 1f));
            ks.put("removeParallelComponent n×d", () -> e.removeParallelComponent(wDec, gW));
            ks.put("normalizeRows n×d", () -> e.normalizeRows(wDec));
            ks.put("residual B×d", () -> e.residual(xhat, x, err));
            for (Map.Entry<String, Runnable> k : ks.entrySet()) {
                Histogram hist = time(t, 3, quick() ? 10 : 50, k.getValue());
                ObjectNode r = rows.addObject();
                r.put("kernel", k.getKey());
                r.put("p50_us", hist.getValueAtPercentile(50) / 1e3);
                r.put("p99_us", hist.getValueAtPercentile(99) / 1e3);
                r.put("max_us", hist.getMaxValue() / 1e3);
                md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f |%n", k.getKey(),
                        hist.getValueAtPercentile(50) / 1e3, hist.getValueAtPercentile(99) / 1e3, hist.getMaxValue() / 1e3));
            }
        }
        md.append('\n');
    }

    // ------------------------------------------------------------------------------------------------ training

    /** Dense products per step: relu/jumprelu 5, atm 6 (its e·W_decᵀ), sparse archs 1 (the encoder forward). */
    static double stepFlops(ArchKind arch, int b, int d, int n) {
        double dense = 2.0 * b * d * n;
        return switch (arch) {
            case ATM -> 6 * dense;
            case RELU, JUMPRELU -> 5 * dense;
            case TOPK, BATCHTOPK -> dense + 3 * 2.0 * b * K * d;   // decode, its backward, encoder backward
            case MATRYOSHKA -> dense + 3 * 2.0 * b * K * d;         // the same: the prefixes add O(M·B·d), no products
        };
    }

    private ObjectNode training(CudaEngine e, int d, int b, int[] widths, int steps, List<Precision> precisions,
                                List<ArchKind> archs, Map<Precision, Double> peak) {
        ObjectNode node = report.putObject("training");
        ArrayNode rows = node.putArray("rows");
        md.append(String.format(Locale.ROOT, "## Training step (d = %d, B = %d, k = %d)%n%n", d, b, K));
        md.append("| arch | n | precision | step ms p50 | p99 | tokens/s | step TFLOP/s | of peak | encoder of peak |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        int rotate = 4;
        for (int n : widths) {
            Tensor[] xs = new Tensor[rotate];
            for (int i = 0; i < rotate; i++) {
                xs[i] = random(e, b, d);
            }
            for (Precision p : precisions) {
                e.setPrecision(p);
                double encoderMs = encoderMs(e, xs[0], d, n, b);
                for (ArchKind arch : archs) {
                    Map<String, Object> cfg = new LinkedHashMap<>();
                    cfg.put("arch", arch.id());
                    cfg.put("width", n);
                    cfg.put("k", K);
                    cfg.put("batch_size", b);
                    cfg.put("atm_mask_start", 0);   // time the masked ATM step, not the warm-up
                    cfg.put("atm_mask_ramp", 1);
                    TrainConfig config = TrainConfig.fromMap(cfg);
                    try (Sae sae = SaeFactory.create(e, config, d, 1_000_000L, null); CudaTimer t = e.newTimer()) {
                        long[] step = {1};
                        Histogram h = time(t, 3, steps, () -> sae.trainStep(xs[(int) (step[0] % rotate)], step[0]++));
                        double ms = h.getValueAtPercentile(50) / 1e6;
                        double tokens = b / (ms / 1e3);
                        double tflops = stepFlops(arch, b, d, n) / (ms / 1e3) / 1e12;
                        double encTflops = 2.0 * b * d * n / (encoderMs / 1e3) / 1e12;
                        double pk = peak.getOrDefault(p, Double.NaN);
                        ObjectNode r = rows.addObject();
                        r.put("arch", arch.id());
                        r.put("n", n);
                        r.put("precision", p.name().toLowerCase(Locale.ROOT));
                        r.put("step_ms_p50", ms);
                        r.put("step_ms_p99", h.getValueAtPercentile(99) / 1e6);
                        r.put("tokens_per_s", tokens);
                        r.put("step_tflops", tflops);
                        r.put("step_fraction_of_peak", tflops / pk);
                        r.put("encoder_tflops", encTflops);
                        r.put("encoder_fraction_of_peak", encTflops / pk);
                        md.append(String.format(Locale.ROOT, "| %s | %d | %s | %.2f | %.2f | %.0f | %.1f | %.0f%% | %.0f%% |%n",
                                arch.id(), n, p, ms, h.getValueAtPercentile(99) / 1e6, tokens, tflops,
                                100 * tflops / pk, 100 * encTflops / pk));
                    } catch (RuntimeException ex) {
                        md.append("| ").append(arch.id()).append(" | ").append(n).append(" | ").append(p)
                                .append(" | failed: ").append(ex.getMessage()).append(" |||||\n");
                        ObjectNode r = rows.addObject();
                        r.put("arch", arch.id());
                        r.put("n", n);
                        r.put("precision", p.name().toLowerCase(Locale.ROOT));
                        r.put("error", String.valueOf(ex));
                    }
                }
            }
            for (Tensor x : xs) {
                x.close();
            }
        }
        e.setPrecision(Precision.FP32);
        md.append('\n');
        return node;
    }

    private double encoderMs(CudaEngine e, Tensor x, int d, int n, int b) {
        try (Tensor w = random(e, n, d); Tensor h = e.allocF32(b, n); CudaTimer t = e.newTimer()) {
            return time(t, 3, quick() ? 5 : 20, () -> e.gemm(false, true, 1f, x, w, 0f, h)).getValueAtPercentile(50) / 1e6;
        }
    }

    // ------------------------------------------------------------------------------------------------ PyTorch peer

    private JsonNode torchPeer(Path out, int d, int b, int[] widths, int steps, List<Precision> precisions,
                               List<ArchKind> archs) throws IOException, InterruptedException {
        String python = opt("python", "/opt/torch/.venv/bin/python");
        Path script = Path.of(opt("torch-peer", "benchmarks/peers/torch_sae.py"));
        if (!Files.isRegularFile(script) || !Files.isExecutable(Path.of(python))) {
            md.append("## PyTorch peer\n\nnot run: ").append(python).append(" or ").append(script).append(" missing\n\n");
            report.put("torch_peer", "not run: python or script missing");
            return null;
        }
        String modes = opt("torch-modes", quick() ? "eager" : "eager,compile");
        if (modes.equals("none")) {
            report.put("torch_peer", "not run (--torch-modes none)");
            return null;
        }
        Path peerJson = out.resolve("torch-peer.json");
        Files.deleteIfExists(peerJson);
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--d", "" + d, "--batch", "" + b,
                "--k", "" + K, "--steps", "" + steps, "--json", peerJson.toString(),
                "--widths", Arrays.stream(widths).mapToObj(Integer::toString).reduce((x, y) -> x + "," + y).orElse(""),
                "--precisions", String.join(",", precisions.stream().map(p -> p.name().toLowerCase(Locale.ROOT)).toList()),
                "--archs", String.join(",", archs.stream().map(ArchKind::id).toList())));
        if (!modes.contains("compile")) {
            cmd.add("--no-compile");
        }
        // Output to a file (not a pipe) so the timeout below works even when the child hangs.
        Path log = out.resolve("torch-peer.log");
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long timeout = Long.parseLong(opt("torch-timeout-s", "480"));
        if (opts.containsKey("budget-s")) {
            // Leave 20 s of the whole invocation's budget for reading the peer's results and writing ours.
            long left = Long.parseLong(opt("budget-s", "0")) - (System.nanoTime() - started) / 1_000_000_000L - 20;
            timeout = Math.max(10, Math.min(timeout, left));
        }
        boolean done = proc.waitFor(timeout, TimeUnit.SECONDS);
        if (!done) {
            proc.destroyForcibly();
        }
        if (!Files.exists(peerJson)) {
            md.append("## PyTorch peer\n\nfailed (see torch-peer.log)\n\n");
            report.put("torch_peer", "failed: " + (done ? "exit " + proc.exitValue() : "timeout after " + timeout + " s"));
            return null;
        }
        if (!done) {
            md.append("PyTorch peer stopped after ").append(timeout).append(" s: partial results below.\n\n");
        }
        JsonNode peer = json.readTree(peerJson.toFile());
        report.set("torch_peer", peer);
        return peer;
    }

    private void ratios(ObjectNode ours, JsonNode torch) {
        if (torch == null) {
            return;
        }
        ArrayNode out = report.putArray("ratios");
        md.append("## atmsae vs PyTorch (same GPU, same run, equal precision)\n\n")
                .append("| arch | n | precision | atmsae tokens/s | torch eager | ratio | torch.compile | ratio |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        for (JsonNode r : ours.get("rows")) {
            if (!r.has("tokens_per_s")) {
                continue;
            }
            double eager = peerTokens(torch, r, "eager"), compiled = peerTokens(torch, r, "compile");
            double mine = r.get("tokens_per_s").asDouble();
            ObjectNode o = out.addObject();
            o.put("arch", r.get("arch").asText());
            o.put("n", r.get("n").asInt());
            o.put("precision", r.get("precision").asText());
            o.put("atmsae_tokens_per_s", mine);
            o.put("torch_eager_tokens_per_s", eager);
            o.put("torch_compile_tokens_per_s", compiled);
            o.put("ratio_vs_eager", mine / eager);
            o.put("ratio_vs_compile", mine / compiled);
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %.0f | %.0f | %.2f× | %.0f | %.2f× |%n",
                    r.get("arch").asText(), r.get("n").asInt(), r.get("precision").asText(), mine, eager, mine / eager,
                    compiled, mine / compiled));
        }
        md.append('\n');
    }

    private static double peerTokens(JsonNode torch, JsonNode row, String mode) {
        for (JsonNode r : torch.path("results")) {
            if (r.path("arch").asText().equals(row.get("arch").asText()) && r.path("n").asInt() == row.get("n").asInt()
                    && r.path("precision").asText().equals(row.get("precision").asText())
                    && r.path("mode").asText().equals(mode) && r.has("tokens_per_s")) {
                return r.get("tokens_per_s").asDouble();
            }
        }
        return Double.NaN;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** Warm-up, then one CUDA-event interval per repetition into a histogram of nanoseconds. */
    private static Histogram time(CudaTimer t, int warmup, int reps, Runnable work) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        for (int i = 0; i < reps; i++) {
            t.start();
            work.run();
            t.stop();
            h.recordValue(Math.max(1, Math.round(t.elapsedMs() * 1e6)));
        }
        return h;
    }

    /**
     * A tensor of Philox normals / √cols. Up to 2²⁷ values are generated on the host (in parallel; counter-based, so
     * deterministic); larger buffers (the copy ceiling only) repeat one random row, which is enough for bandwidth.
     */
    private Tensor random(CudaEngine e, int rows, int cols) {
        Tensor t = e.allocF32(rows, cols);
        long size = (long) rows * cols;
        long base = rng;
        rng += size;
        double norm = Math.sqrt(cols);
        if (size <= (1 << 27)) {
            float[] all = new float[(int) size];
            java.util.stream.IntStream.range(0, all.length).parallel()
                    .forEach(i -> all[i] = (float) (Philox.gaussian(7, Philox.STREAM_SYNTH, base + i) / norm));
            e.upload(t, all);
            return t;
        }
        float[] row = new float[cols];
        for (int i = 0; i < cols; i++) {
            row[i] = (float) (Philox.gaussian(7, Philox.STREAM_SYNTH, base + i) / norm);
        }
        try (Tensor r = e.allocF32(1, cols); Tensor ones = e.allocF32(rows, 1)) {
            e.upload(r, row);
            e.fill(ones, 1f);
            e.gemm(false, false, 1f, ones, r, 0f, t);   // every row the same random vector
        }
        return t;
    }
}
