package dev.atmsae.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.core.ArchKind;
import dev.atmsae.arch.Sae;
import dev.atmsae.arch.SaeFactory;
import dev.atmsae.arch.StepMetrics;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * CPU training-step throughput of atmsae against two peers measured in the same invocation on the same shapes
 * (benchmarks.md): numpy + OpenBLAS ({@code peers/numpy_sae.py}) and PyTorch on the CPU ({@code peers/torch_cpu_sae.py},
 * Debian's python3-torch), each doing the same step math (forward, backward, Adam) as a subprocess.
 *
 * <p>Cases per shape: relu, atm and jumprelu with <b>dense codes</b> (a fresh SAE's first steps, about half the codes
 * active; L1 λ = 1e-3) and at a <b>realistic sparsity</b> (b_enc shifted so that L0 ≈ {@code --target-l0}, lr 1e-7
 * so that the state, and L0, stay put while timing); topk and batchtopk with k = {@code --k}. The peers' dense math
 * costs the same whatever the codes, so one peer run per architecture serves both of its cases. ATM masks from the
 * first step on both sides (mask_start 0). Timing: warm-up steps (C2, the Vector API), then the median of timed
 * steps over three rotated input batches.
 *
 * <p>Also measured in the same run, next to each architecture's cases: the machine's fp32 sgemm peak (the best of
 * several encoder-shaped products [B, d]·[d, n] on the CPU engine's BLAS) and, per case, the dense products' share
 * of it: (dense products of atmsae's step × 2·B·d·n) / step time / peak.
 *
 * <p>Usage: {@code TrainBench [--out DIR] [--shapes 384x6144] [--archs relu,atm,jumprelu,topk,batchtopk,matryoshka] [--batch 4096]
 * [--k 32] [--target-l0 32] [--warmup 2] [--warmup-fast 8] [--reps 5] [--threads N] [--python python3] [--torch-python /usr/bin/python3]
 * [--peers DIR]}. Writes {@code train.md} and {@code train.json} to the output directory (default bench-out/).
 */
public final class TrainBench {
    /** Ratio targets against the faster peer (issue 8): dense codes, sparse codes, the TopK family. */
    static final double TARGET_DENSE = 1.0, TARGET_SPARSE = 2.0, TARGET_TOPK = 2.5;
    static final double DENSE_L1 = 1e-3;
    /** The learning rate of the sparse cases: small enough that L0 does not drift during the measurement. */
    static final double FROZEN_LR = 1e-7;

    private TrainBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Path out = Path.of(a.getOrDefault("out", "bench-out"));
        String[] shapes = a.getOrDefault("shapes", "384x6144").split(",");
        String[] archs = a.getOrDefault("archs", "relu,atm,jumprelu,topk,batchtopk,matryoshka").split(",");
        int batch = Integer.parseInt(a.getOrDefault("batch", "4096"));
        int k = Integer.parseInt(a.getOrDefault("k", "32"));
        double targetL0 = Double.parseDouble(a.getOrDefault("target-l0", "32"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "2"));
        // atmsae's fast cases (sparse codes, TopK family) spend their time in Java kernels, which need more steps
        // before C2 has compiled them all; a dense step is mostly BLAS. Peers always get --warmup.
        int warmupFast = Integer.parseInt(a.getOrDefault("warmup-fast", "8"));
        int reps = Integer.parseInt(a.getOrDefault("reps", "5"));
        int threads = Integer.parseInt(a.getOrDefault("threads",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        Path peers = Path.of(a.getOrDefault("peers", findPeers()));
        Peer numpy = new Peer("numpy", a.getOrDefault("python", "python3"), peers.resolve("numpy_sae.py"));
        Peer torch = new Peer("torch", a.getOrDefault("torch-python", "/usr/bin/python3"),
                peers.resolve("torch_cpu_sae.py"));

        double loadBefore = loadAverage();
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("cpu", cpuModel());
        report.put("processors", Runtime.getRuntime().availableProcessors());
        try (Engine engine = Engines.cpu(threads, false)) {
            report.put("engine", engine.describe());
            for (String shape : shapes) {
                String[] dn = shape.split("x");
                int d = Integer.parseInt(dn[0]);
                int n = Integer.parseInt(dn[1]);
                double bestPeak = 0;
                for (String arch : archs) {
                    ArchKind kind = ArchKind.parse(arch);
                    // measured next to each architecture's cases: on a shared machine the ceiling moves with the load
                    double peak = sgemmPeak(engine, batch, d, n);
                    bestPeak = Math.max(bestPeak, peak);
                    System.out.printf(Locale.ROOT, "sgemm peak [%d, %d]·[%d, %d]: %.1f GFLOP/s%n", batch, d, d, n,
                            peak);
                    JsonNode np = numpy.run(arch, d, n, batch, k, warmup, reps);
                    JsonNode tp = torch.run(arch, d, n, batch, k, warmup, reps);
                    boolean denseCodes = kind == ArchKind.RELU || kind == ArchKind.ATM || kind == ArchKind.JUMPRELU;
                    for (String bench : denseCodes ? new String[]{"dense", "sparse"} : new String[]{"k=" + k}) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("arch", arch);
                        row.put("case", bench);
                        row.put("d", d);
                        row.put("n", n);
                        row.put("batch", batch);
                        boolean fast = !denseCodes || bench.equals("sparse");
                        Measured m = atmsae(engine, kind, bench.equals("sparse"), d, n, batch, k, targetL0,
                                fast ? warmupFast : warmup, reps);
                        row.put("l0", m.l0);
                        row.put("atmsae_median_s", m.medianSeconds);
                        row.put("atmsae_tokens_per_s", batch / m.medianSeconds);
                        row.put("atmsae_times_s", m.times);
                        double gflop = m.denseProducts * 2.0 * batch * d * n * 1e-9;
                        row.put("dense_products", m.denseProducts);
                        row.put("sgemm_peak_gflops", peak);
                        row.put("dense_fraction_of_peak", gflop / m.medianSeconds / peak);
                        putPeer(row, "numpy", np);
                        putPeer(row, "torch", tp);
                        double best = Math.max(peerRate(np), peerRate(tp));
                        double target = !denseCodes ? TARGET_TOPK : bench.equals("sparse") ? TARGET_SPARSE
                                : TARGET_DENSE;
                        row.put("target", target);
                        if (best > 0) {
                            row.put("ratio", (batch / m.medianSeconds) / best);
                        }
                        System.out.println(line(row));
                        rows.add(row);
                    }
                }
                report.put("sgemm_peak_gflops_" + shape, bestPeak);
            }
        }
        // other processes on the machine skew both sides; the load average says how much to trust a run
        report.put("load_average_start", loadBefore);
        report.put("load_average_end", loadAverage());
        report.put("precision", "fp32 on every side");
        report.put("warmup", warmup);
        report.put("warmup_fast", warmupFast);
        report.put("reps", reps);
        report.put("k", k);
        report.put("target_l0", targetL0);
        report.put("results", rows);
        Files.createDirectories(out);
        AtomicFiles.writeString(out.resolve("train.json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report) + "\n");
        String md = markdown(report, rows);
        AtomicFiles.writeString(out.resolve("train.md"), md);
        System.out.print(md);
    }

    /** atmsae's step times and what the timed steps did. */
    record Measured(double[] times, double medianSeconds, double l0, int denseProducts) {
    }

    /**
     * Times {@link Sae#trainStep} on the CPU engine. Sparse case: b_enc is shifted until the inference L0 is within
     * 5% of the target, and the lr is {@link #FROZEN_LR}.
     */
    static Measured atmsae(Engine engine, ArchKind arch, boolean sparse, int d, int n, int batch, int k,
                           double targetL0, int warmup, int reps) {
        Map<String, Object> m = new HashMap<>(Map.of("width", n, "k", Math.min(k, n), "batch_size", batch,
                "atm_mask_start", 0, "atm_mask_ramp", 1, "seed", 1));
        if (arch == ArchKind.RELU || arch == ArchKind.ATM) {
            m.put("l1_coeff", DENSE_L1);
        }
        if (sparse) {
            m.put("lr", FROZEN_LR);
        }
        TrainConfig cfg = TrainConfig.defaults(arch).with(m);
        long totalSteps = 1_000_000; // schedules stay in their steady phase during the measurement
        Tensor[] xs = new Tensor[3];
        float[] host = new float[batch * d];
        try (Sae sae = SaeFactory.create(engine, cfg, d, totalSteps, null); Tensor xhat = engine.allocF32(batch, d)) {
            for (int b = 0; b < xs.length; b++) {
                for (int i = 0; i < host.length; i++) {
                    host[i] = (float) Philox.gaussian(b + 1, Philox.STREAM_SYNTH, i);
                }
                xs[b] = engine.allocF32(batch, d);
                engine.upload(xs[b], host);
            }
            if (sparse) {
                shiftToL0(engine, sae, xs[0], xhat, n, batch, targetL0);
            }
            long step = 0;
            for (int i = 0; i < warmup; i++) {
                sae.trainStep(xs[(int) (step % 3)], ++step);
            }
            double[] times = new double[reps];
            double l0 = 0;
            boolean masked = false;
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                StepMetrics s = sae.trainStep(xs[(int) (step % 3)], ++step);
                engine.synchronize();
                times[i] = (System.nanoTime() - t0) * 1e-9;
                if (!Double.isFinite(s.loss())) {
                    throw new IllegalStateException(arch.id() + ": non-finite loss in the benchmark");
                }
                l0 += s.l0() / reps;
                masked |= s.fracMaskable() > 0;
            }
            return new Measured(times, median(times), l0, denseProducts(arch, l0, n, masked));
        } finally {
            for (Tensor t : xs) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    /**
     * B×d×n products in the step, by the architecture's class comment: the TopK family and dense-code batches on
     * their active-entry path (below DenseCodeSae's 1/16 density) run only the encoder densely; otherwise relu and
     * jumprelu run 5, atm 7 while masking.
     */
    static int denseProducts(ArchKind arch, double l0, int n, boolean atmMasking) {
        if (arch.kControlled() || l0 <= n / 16.0) {
            return 1;
        }
        return arch == ArchKind.ATM && atmMasking ? 7 : 5;
    }

    /** Bisection on a uniform b_enc shift until the batch's inference L0 is within 5% of the target. */
    private static void shiftToL0(Engine engine, Sae sae, Tensor x, Tensor xhat, int n, int batch, double target) {
        Tensor bEnc = sae.stateTensors().get("b_enc");
        float[] base = new float[n];
        engine.download(bEnc, base);
        float[] shifted = new float[n];
        double lo = -20, hi = 0;
        for (int it = 0; it < 40; it++) {
            double mid = (lo + hi) / 2;
            for (int i = 0; i < n; i++) {
                shifted[i] = (float) (base[i] + mid);
            }
            engine.upload(bEnc, shifted);
            double l0 = (double) sae.inferenceForward(x, xhat) / batch;
            if (Math.abs(l0 - target) <= 0.05 * target) {
                return;
            }
            if (l0 > target) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }

    /** The best of five encoder-shaped products [B, d]·[n, d]ᵀ on the engine's BLAS, in GFLOP/s. */
    static double sgemmPeak(Engine engine, int batch, int d, int n) {
        try (Tensor a = engine.allocF32(batch, d); Tensor b = engine.allocF32(n, d); Tensor c = engine.allocF32(batch, n)) {
            float[] host = new float[Math.max(batch, n) * d];
            for (int i = 0; i < host.length; i++) {
                host[i] = (float) Philox.gaussian(7, Philox.STREAM_SYNTH, i);
            }
            engine.upload(a, Arrays.copyOf(host, batch * d));
            engine.upload(b, Arrays.copyOf(host, n * d));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 7; i++) {
                long t0 = System.nanoTime();
                engine.gemm(false, true, 1f, a, b, 0f, c);
                engine.synchronize();
                double s = (System.nanoTime() - t0) * 1e-9;
                if (i >= 2) {
                    best = Math.min(best, s);
                }
            }
            return 2.0 * batch * d * n / best * 1e-9;
        }
    }

    /** A peer script run as a subprocess; its last stdout line is one JSON object (median_s, tokens_per_s, …). */
    record Peer(String name, String python, Path script) {
        JsonNode run(String arch, int d, int n, int batch, int k, int warmup, int reps)
                throws IOException, InterruptedException {
            if (!Files.isRegularFile(script)) {
                System.err.println("TrainBench: " + name + " peer not found at " + script + "; skipping it");
                return null;
            }
            Process p;
            try {
                p = new ProcessBuilder(python, script.toString(), "--arch", arch, "--d", Integer.toString(d), "--n",
                        Integer.toString(n), "--batch", Integer.toString(batch), "--k", Integer.toString(k),
                        "--warmup", Integer.toString(warmup), "--reps", Integer.toString(reps))
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            } catch (IOException e) {
                System.err.println("TrainBench: cannot start " + python + " for the " + name + " peer: "
                        + e.getMessage());
                return null;
            }
            String text;
            try (InputStream in = p.getInputStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                System.err.println("TrainBench: " + name + " peer did not run for " + arch + " " + d + "x" + n);
                return null;
            }
            String[] lines = text.strip().split("\n");
            return new ObjectMapper().readTree(lines[lines.length - 1]);
        }
    }

    private static void putPeer(Map<String, Object> row, String name, JsonNode p) {
        if (p != null) {
            row.put(name + "_median_s", p.get("median_s").asDouble());
            row.put(name + "_tokens_per_s", p.get("tokens_per_s").asDouble());
            row.put(name + "_version", p.has(name) ? p.get(name).asText() : "");
        }
    }

    private static double peerRate(JsonNode p) {
        return p == null ? 0 : p.get("tokens_per_s").asDouble();
    }

    private static String rate(Map<String, Object> r, String key) {
        return r.containsKey(key) ? String.format(Locale.ROOT, "%.0f", (double) r.get(key)) : "–";
    }

    private static String line(Map<String, Object> r) {
        return String.format(Locale.ROOT, "%-9s %-6s d=%d n=%d L0 %.1f: atmsae %.0f tok/s, numpy %s, torch %s, "
                        + "ratio %s (target %.1f), dense products at %.0f%% of peak", r.get("arch"), r.get("case"),
                r.get("d"), r.get("n"), (double) r.get("l0"), (double) r.get("atmsae_tokens_per_s"),
                rate(r, "numpy_tokens_per_s"), rate(r, "torch_tokens_per_s"),
                r.containsKey("ratio") ? String.format(Locale.ROOT, "%.2f", (double) r.get("ratio")) : "–",
                (double) r.get("target"), 100 * (double) r.get("dense_fraction_of_peak"));
    }

    private static String markdown(Map<String, Object> report, List<Map<String, Object>> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("### CPU training step: atmsae vs numpy and PyTorch (same run)\n\n");
        sb.append("Date ").append(report.get("date")).append("; CPU: ").append(report.get("cpu")).append(", ")
                .append(report.get("processors")).append(" processors; engine: ").append(report.get("engine"))
                .append("; fp32 on every side; batch ").append(rows.isEmpty() ? "" : rows.get(0).get("batch"))
                .append("; median of ").append(report.get("reps")).append(" steps after ").append(report.get("warmup"))
                .append(" warm-up steps (atmsae's sparse and TopK cases: ").append(report.get("warmup_fast"))
                .append(", for C2); 1-minute load average ")
                .append(String.format(Locale.ROOT, "%.1f → %.1f", (double) report.get("load_average_start"),
                        (double) report.get("load_average_end"))).append(".\n");
        for (Map.Entry<String, Object> e : report.entrySet()) {
            if (e.getKey().startsWith("sgemm_peak_gflops_")) {
                sb.append(String.format(Locale.ROOT, "sgemm peak (one [B, d]·[d, n] product, shape %s, best "
                                + "over the run): %.1f GFLOP/s.\n",
                        e.getKey().substring("sgemm_peak_gflops_".length()), (double) e.getValue()));
            }
        }
        sb.append("\nCases: dense = a fresh SAE's first steps (about half the codes active, L1 λ = 1e-3); sparse = "
                + "b_enc shifted to L0 ≈ ").append(report.get("target_l0")).append(" (peers run dense math either "
                + "way); topk/batchtopk at k = ").append(report.get("k")).append(". Ratio = atmsae / the faster peer. "
                + "Dense products' share of peak = atmsae's B×d×n products per step × 2·B·d·n / step time / the sgemm "
                + "peak measured just before that architecture's cases.\n\n");
        sb.append("| arch | case | d | n | L0 | atmsae tok/s | numpy tok/s | torch tok/s | ratio | target | "
                + "dense products / step | sgemm peak GFLOP/s | share of peak |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> r : rows) {
            double ratio = r.containsKey("ratio") ? (double) r.get("ratio") : Double.NaN;
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %.1f | %.0f | %s | %s | %s | ≥ %.1f× %s | %d | %.1f | %.0f%% |\n",
                    r.get("arch"), r.get("case"), r.get("d"), r.get("n"), (double) r.get("l0"),
                    (double) r.get("atmsae_tokens_per_s"), rate(r, "numpy_tokens_per_s"),
                    rate(r, "torch_tokens_per_s"),
                    Double.isNaN(ratio) ? "–" : String.format(Locale.ROOT, "%.2f×", ratio), (double) r.get("target"),
                    Double.isNaN(ratio) ? "" : ratio >= (double) r.get("target") ? "met" : "**not met**",
                    (int) r.get("dense_products"), (double) r.get("sgemm_peak_gflops"),
                    100 * (double) r.get("dense_fraction_of_peak")));
        }
        return sb.toString();
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException ignored) {
            // not Linux: unknown
        }
        return "unknown CPU";
    }

    private static String findPeers() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("benchmarks/peers");
            if (Files.isDirectory(candidate)) {
                return candidate.toString();
            }
        }
        return "benchmarks/peers";
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: TrainBench [--key value]...; bad argument " + args[i]);
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }
}
