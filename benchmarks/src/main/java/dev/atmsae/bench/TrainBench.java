package dev.atmsae.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.arch.ArchKind;
import dev.atmsae.arch.Sae;
import dev.atmsae.arch.SaeFactory;
import dev.atmsae.arch.StepMetrics;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.train.Philox;
import dev.atmsae.train.TrainConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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

/**
 * CPU training-step throughput of atmsae against the numpy + OpenBLAS peer ({@code benchmarks/peers/numpy_sae.py})
 * measured in the same invocation on the same shapes (benchmarks.md): for each shape and architecture, atmsae's
 * {@link Sae#trainStep} on the CPU engine (warm-up steps first, for C2 and the Vector API, then the median of timed
 * steps over three rotated input batches), then the peer as a subprocess with the same warm-up and repetitions.
 * ATM masks from the first step (mask_start 0) on both sides, so the masking work is measured.
 *
 * <p>Usage: {@code TrainBench [--out DIR] [--shapes 384x6144,768x12288] [--archs relu,atm,topk,batchtopk,jumprelu,matryoshka]
 * [--batch 4096] [--k 64] [--warmup 2] [--reps 5] [--threads N] [--peer PATH] [--python python3]}.
 * Writes {@code train.md} and {@code train.json} to the output directory (default bench-out/).
 */
public final class TrainBench {
    private TrainBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Path out = Path.of(a.getOrDefault("out", "bench-out"));
        String[] shapes = a.getOrDefault("shapes", "384x6144,768x12288").split(",");
        String[] archs = a.getOrDefault("archs", "relu,atm,topk,batchtopk,jumprelu,matryoshka").split(",");
        int batch = Integer.parseInt(a.getOrDefault("batch", "4096"));
        int k = Integer.parseInt(a.getOrDefault("k", "64"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "2"));
        int reps = Integer.parseInt(a.getOrDefault("reps", "5"));
        int threads = Integer.parseInt(a.getOrDefault("threads", Integer.toString(Runtime.getRuntime().availableProcessors())));
        Path peer = Path.of(a.getOrDefault("peer", findPeer()));
        String python = a.getOrDefault("python", "python3");

        List<Map<String, Object>> rows = new ArrayList<>();
        double loadBefore = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        String engineDescription;
        try (Engine engine = Engines.cpu(threads, false)) {
            engineDescription = engine.describe();
            for (String shape : shapes) {
                String[] dn = shape.split("x");
                int d = Integer.parseInt(dn[0]);
                int n = Integer.parseInt(dn[1]);
                for (String arch : archs) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("arch", arch);
                    row.put("d", d);
                    row.put("n", n);
                    row.put("batch", batch);
                    double[] times = atmsaeTimes(engine, ArchKind.parse(arch), d, n, batch, k, warmup, reps);
                    double med = median(times);
                    row.put("atmsae_median_s", med);
                    row.put("atmsae_tokens_per_s", batch / med);
                    row.put("atmsae_times_s", times);
                    JsonNode p = runPeer(python, peer, arch, d, n, batch, k, warmup, reps);
                    if (p != null) {
                        row.put("numpy_median_s", p.get("median_s").asDouble());
                        row.put("numpy_tokens_per_s", p.get("tokens_per_s").asDouble());
                        row.put("numpy_sparse", p.get("sparse").asText());
                        row.put("ratio", (batch / med) / p.get("tokens_per_s").asDouble());
                    }
                    System.out.println(line(row));
                    rows.add(row);
                }
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("machine", machine());
        report.put("engine", engineDescription);
        report.put("precision", "fp32 both sides");
        // other processes on the machine skew both sides; the load average says how much to trust a run
        report.put("load_average_start", loadBefore);
        report.put("load_average_end",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        report.put("warmup", warmup);
        report.put("reps", reps);
        report.put("k", k);
        report.put("results", rows);
        Files.createDirectories(out);
        AtomicFiles.writeString(out.resolve("train.json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report) + "\n");
        String md = markdown(report, rows);
        AtomicFiles.writeString(out.resolve("train.md"), md);
        System.out.print(md);
    }

    /** Seconds per trainStep for each timed repetition. */
    static double[] atmsaeTimes(Engine engine, ArchKind arch, int d, int n, int batch, int k, int warmup, int reps) {
        TrainConfig cfg = TrainConfig.defaults(arch).with(Map.of("width", n, "k", Math.min(k, n), "batch_size", batch,
                "atm_mask_start", 0, "atm_mask_ramp", 1, "seed", 1));
        long totalSteps = 1_000_000; // schedules stay in their steady phase during the measurement
        Tensor[] xs = new Tensor[3];
        float[] host = new float[batch * d];
        try (Sae sae = SaeFactory.create(engine, cfg, d, totalSteps, null)) {
            for (int b = 0; b < xs.length; b++) {
                for (int i = 0; i < host.length; i++) {
                    host[i] = (float) Philox.gaussian(b + 1, Philox.STREAM_SYNTH, i);
                }
                xs[b] = engine.allocF32(batch, d);
                engine.upload(xs[b], host);
            }
            long step = 0;
            for (int i = 0; i < warmup; i++) {
                sae.trainStep(xs[(int) (step % 3)], ++step);
            }
            double[] times = new double[reps];
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                StepMetrics m = sae.trainStep(xs[(int) (step % 3)], ++step);
                engine.synchronize();
                times[i] = (System.nanoTime() - t0) * 1e-9;
                if (!Double.isFinite(m.loss())) {
                    throw new IllegalStateException(arch.id() + ": non-finite loss in the benchmark");
                }
            }
            return times;
        } finally {
            for (Tensor t : xs) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    private static JsonNode runPeer(String python, Path peer, String arch, int d, int n, int batch, int k, int warmup,
                                    int reps) throws IOException, InterruptedException {
        if (!Files.isRegularFile(peer)) {
            System.err.println("TrainBench: numpy peer not found at " + peer + "; skipping it");
            return null;
        }
        Process p = new ProcessBuilder(python, peer.toString(), "--arch", arch, "--d", Integer.toString(d), "--n",
                Integer.toString(n), "--batch", Integer.toString(batch), "--k", Integer.toString(k), "--warmup",
                Integer.toString(warmup), "--reps", Integer.toString(reps))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String text;
        try (InputStream in = p.getInputStream()) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            System.err.println("TrainBench: numpy peer failed for " + arch + " " + d + "x" + n);
            return null;
        }
        String[] lines = text.strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    private static String line(Map<String, Object> r) {
        return String.format(Locale.ROOT, "%-9s d=%d n=%d: atmsae %.0f tok/s, numpy %s tok/s, ratio %s", r.get("arch"),
                r.get("d"), r.get("n"), r.get("atmsae_tokens_per_s"),
                r.containsKey("numpy_tokens_per_s") ? String.format(Locale.ROOT, "%.0f", r.get("numpy_tokens_per_s")) : "-",
                r.containsKey("ratio") ? String.format(Locale.ROOT, "%.2f", r.get("ratio")) : "-");
    }

    private static String markdown(Map<String, Object> report, List<Map<String, Object>> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("### CPU training step: atmsae vs numpy + OpenBLAS\n\n");
        sb.append("Date ").append(report.get("date")).append("; machine: ").append(report.get("machine"))
                .append("; engine: ").append(report.get("engine")).append("; fp32 both sides; batch ")
                .append(rows.isEmpty() ? "" : rows.get(0).get("batch")).append(", k = ").append(report.get("k"))
                .append(" (topk/batchtopk/matryoshka); median of ").append(report.get("reps")).append(" steps after ")
                .append(report.get("warmup")).append(" warm-up steps; 1-minute load average ")
                .append(String.format(Locale.ROOT, "%.1f → %.1f", (double) report.get("load_average_start"),
                        (double) report.get("load_average_end"))).append(".\n\n");
        sb.append("| arch | d | n | atmsae tokens/s | numpy tokens/s | ratio |\n|---|---|---|---|---|---|\n");
        for (Map<String, Object> r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %s | %s |\n", r.get("arch"), r.get("d"),
                    r.get("n"), r.get("atmsae_tokens_per_s"),
                    r.containsKey("numpy_tokens_per_s") ? String.format(Locale.ROOT, "%.0f", r.get("numpy_tokens_per_s")) : "–",
                    r.containsKey("ratio") ? String.format(Locale.ROOT, "%.2f×", r.get("ratio")) : "–"));
        }
        return sb.toString();
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (IOException ignored) {
            // not Linux: keep "unknown CPU"
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " processors";
    }

    private static String findPeer() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("benchmarks/peers/numpy_sae.py");
            if (Files.isRegularFile(candidate)) {
                return candidate.toString();
            }
        }
        return "benchmarks/peers/numpy_sae.py";
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
