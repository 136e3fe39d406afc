package dev.atmsae.bench;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;

import com.fasterxml.jackson.databind.JsonNode;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * CPU training-step throughput of atmsae against two peers measured in the same invocation on the same shapes
 * (benchmarks.md): numpy + OpenBLAS ({@code peers/numpy_sae.py}) and PyTorch on the CPU ({@code peers/torch_cpu_sae.py},
 * Debian's python3-torch), each doing the same step math (forward, backward, Adam) in a subprocess that stays up for
 * the architecture's cases ({@link PeerProcess}).
 *
 * <p>Cases per shape: relu, atm and jumprelu with <b>dense codes</b> and at a <b>realistic sparsity</b> (L0 ≈
 * {@code --target-l0}) ({@link AtmsaeCase}); topk, batchtopk and matryoshka with k = {@code --k}. The peers' dense math
 * costs the same whatever the codes, so one peer serves both of its architecture's cases. ATM masks from the first
 * step on both sides.
 *
 * <p><b>Paired repetitions.</b> After warm-up (C2 and the Vector API on atmsae's side), each of {@code --reps}
 * repetitions times {@code --steps} steps of every atmsae case and of every peer back to back, atmsae first in even
 * repetitions and last in odd ones, plus the engine's product rates ({@link ProductRates}); each figure of a
 * repetition is the median of its steps. Ratios, shares of the sgemm peak and rates are computed per repetition and
 * reported as the median with min–max ({@link ArchRun}); targets are judged on the medians. Load on a shared machine
 * moves both sides of a repetition together, so the ratios hold where single runs moved ±25%.
 *
 * <p>Usage: {@code TrainBench [--out DIR] [--shapes 384x6144] [--archs relu,atm,jumprelu,topk,batchtopk,matryoshka]
 * [--batch 4096] [--k 32] [--target-l0 32] [--reps 5] [--steps 3] [--warmup 2] [--warmup-fast 8] [--threads N]
 * [--python python3] [--torch-python /usr/bin/python3] [--peers DIR]}. Writes {@code train.md} and
 * {@code train.json} to the output directory (default bench-out/).
 */
public final class TrainBench {
    private TrainBench() {
    }

    /** What one invocation runs. */
    record Options(int batch, int k, double targetL0, int reps, int steps, int warmup, int warmupFast) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Path out = Path.of(a.getOrDefault("out", "bench-out"));
        String[] shapes = a.getOrDefault("shapes", "384x6144").split(",");
        String[] archs = a.getOrDefault("archs", "relu,atm,jumprelu,topk,batchtopk,matryoshka").split(",");
        // atmsae's fast cases (sparse codes, TopK family) spend their time in Java kernels, which need more steps
        // before C2 has compiled them all; a dense step is mostly BLAS. Peers always get --warmup.
        Options o = new Options(Integer.parseInt(a.getOrDefault("batch", "4096")),
                Integer.parseInt(a.getOrDefault("k", "32")), Double.parseDouble(a.getOrDefault("target-l0", "32")),
                Integer.parseInt(a.getOrDefault("reps", "5")), Integer.parseInt(a.getOrDefault("steps", "3")),
                Integer.parseInt(a.getOrDefault("warmup", "2")), Integer.parseInt(a.getOrDefault("warmup-fast", "8")));
        if (o.reps() < 1 || o.steps() < 1) {
            throw new IllegalArgumentException("--reps and --steps must be ≥ 1");
        }
        int threads = Integer.parseInt(a.getOrDefault("threads",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        Path peers = Path.of(a.getOrDefault("peers", findPeers()));
        List<PeerProcess.Kind> peerKinds = List.of(
                new PeerProcess.Kind("numpy", a.getOrDefault("python", "python3"), peers.resolve("numpy_sae.py")),
                new PeerProcess.Kind("torch", a.getOrDefault("torch-python", "/usr/bin/python3"),
                        peers.resolve("torch_cpu_sae.py")));

        long start = System.nanoTime();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("load_average_start", loadAverage());
        List<ArchRun> runs = new ArrayList<>();
        try (Engine engine = Engines.cpu(threads, false)) {
            facts.put("engine", engine.describe());
            for (String shape : shapes) {
                String[] dn = shape.split("x");
                int d = Integer.parseInt(dn[0]);
                int n = Integer.parseInt(dn[1]);
                try (ProductRates rates = new ProductRates(engine, o.batch(), d, n)) {
                    for (String arch : archs) {
                        runs.add(runArch(engine, rates, peerKinds, arch, d, n, o));
                    }
                }
            }
        }
        facts.put("load_average_end", loadAverage());
        facts.put("wall_seconds", (System.nanoTime() - start) * 1e-9);
        Files.createDirectories(out);
        TrainReport report = new TrainReport(runs, o, facts);
        report.write(out);
        System.out.print(report.markdown());
    }

    /** One architecture at one shape: its peers started, its atmsae cases warmed up, then the paired repetitions. */
    static ArchRun runArch(Engine engine, ProductRates rates, List<PeerProcess.Kind> peerKinds, String arch, int d,
                           int n, Options o) {
        ArchRun run = new ArchRun(arch, d, n, o.batch());
        List<PeerProcess> peers = new ArrayList<>();
        List<AtmsaeCase> cases = new ArrayList<>();
        try {
            for (PeerProcess.Kind kind : peerKinds) {
                PeerProcess p = kind.start(arch, d, n, o.batch(), o.k(), o.warmup());
                if (p != null) {
                    peers.add(p);
                    run.peerInfo.put(p.name(), p.info());
                    run.peerTokensPerSecond.put(p.name(), new ArrayList<>());
                    run.peerGemm.put(p.name(), new ArrayList<>());
                }
            }
            ArchKind kind = run.kind;
            for (boolean sparse : run.denseCodes() ? new boolean[] {false, true} : new boolean[] {false}) {
                boolean fast = sparse || !run.denseCodes();
                run.cases.add(new ArchRun.CaseRun(run.denseCodes() ? (sparse ? "sparse" : "dense") : "k=" + o.k(),
                        sparse));
                cases.add(new AtmsaeCase(engine, kind, sparse, d, n, o.batch(), o.k(), o.targetL0(),
                        fast ? o.warmupFast() : o.warmup()));
            }
            ProductRates.Layout[] layouts = run.denseCodes() ? ProductRates.Layout.values()
                    : new ProductRates.Layout[] {ProductRates.Layout.NT};
            for (int r = 0; r < o.reps(); r++) {
                run.engineRates.add(rates.measure(layouts));
                boolean atmsaeFirst = r % 2 == 0;
                if (atmsaeFirst) {
                    measureAtmsae(run, cases, o.steps());
                }
                for (PeerProcess p : atmsaeFirst ? peers : peers.reversed()) {
                    JsonNode m = p.measure(o.steps());
                    run.peerTokensPerSecond.get(p.name()).add(m == null ? Double.NaN : m.get("tokens_per_s").asDouble());
                    run.peerGemm.get(p.name()).add(m == null ? Double.NaN : m.get("gemm_gflops").asDouble());
                }
                if (!atmsaeFirst) {
                    measureAtmsae(run, cases, o.steps());
                }
                System.out.println(progress(run, r, o.reps()));
            }
        } finally {
            peers.forEach(PeerProcess::close);
            cases.forEach(AtmsaeCase::close);
        }
        return run;
    }

    private static void measureAtmsae(ArchRun run, List<AtmsaeCase> cases, int steps) {
        for (int i = 0; i < cases.size(); i++) {
            AtmsaeCase.Measurement m = cases.get(i).measure(steps);
            ArchRun.CaseRun c = run.cases.get(i);
            c.tokensPerSecond.add(run.batch / m.medianSeconds());
            c.l0.add(m.l0());
            c.masked.add(m.masked());
        }
    }

    /** One line per repetition: what each side did in it. */
    private static String progress(ArchRun run, int r, int reps) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-10s %dx%d rep %d/%d:", run.arch, run.d,
                run.n, r + 1, reps));
        for (ArchRun.CaseRun c : run.cases) {
            sb.append(String.format(Locale.ROOT, " atmsae %s %.0f tok/s (L0 %.1f);", c.name,
                    c.tokensPerSecond.get(r), c.l0.get(r)));
        }
        for (String peer : run.peerTokensPerSecond.keySet()) {
            sb.append(String.format(Locale.ROOT, " %s %.0f tok/s (GEMM %.1f GFLOP/s);", peer,
                    run.peerTokensPerSecond.get(peer).get(r), run.peerGemm.get(peer).get(r)));
        }
        sb.append(String.format(Locale.ROOT, " sgemm peak %.1f GFLOP/s", run.peak(r)));
        return sb.toString();
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
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
