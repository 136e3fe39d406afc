package dev.atmsae.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.gpucheck.LongRunParity;
import dev.atmsae.eval.synth.SynthConfig;
import dev.atmsae.eval.synth.SynthGenerator;
import dev.atmsae.report.Plots;
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
import java.util.stream.IntStream;

/**
 * The long run of the GPU check: every architecture trained for {@code --steps} steps on two engines (CUDA in FP32 and
 * the CPU by default) from the same seed on the same synthetic batches, compared by {@link LongRunParity} (final loss
 * within 1%, the L0 trajectory alike). Writes longrun.json (verdicts and every curve), longrun.md and two PNGs
 * (loss and L0 per step) to {@code --out}; exits 0 when every architecture passed, 1 otherwise, 2 without CUDA.
 *
 * <p>Usage: {@code GpuLongRun [--out DIR] [--steps 1000] [--d 128] [--n 1024] [--batch 256] [--k 32]
 * [--archs atm,topk,batchtopk,jumprelu,relu] [--engines cuda,cpu]}; {@code --engines cpu,cpu-java} runs the same
 * comparison with two CPU engines (OpenBLAS vs pure Java), which is how it is tested without a GPU.
 */
public final class GpuLongRun {
    private GpuLongRun() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("GpuLongRun: expected --name value pairs, got " + String.join(" ", args));
                System.exit(64);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        System.exit(run(opts));
    }

    /** Runs the comparison and writes the outputs; returns the exit status. */
    static int run(Map<String, String> opts) throws IOException {
        Path out = Path.of(opts.getOrDefault("out", "longrun-out"));
        LongRunParity.Shape shape = new LongRunParity.Shape(intOpt(opts, "d", 128), intOpt(opts, "n", 1024),
                intOpt(opts, "batch", 256), intOpt(opts, "k", 32), intOpt(opts, "steps", 1000));
        List<ArchKind> archs = Arrays.stream(opts.getOrDefault("archs", "atm,topk,batchtopk,jumprelu,relu").split(","))
                .map(ArchKind::parse).toList();
        String[] engines = opts.getOrDefault("engines", "cuda,cpu").split(",");
        if (engines.length != 2) {
            System.err.println("GpuLongRun: --engines takes two engines, e.g. cuda,cpu");
            return 64;
        }
        if (Arrays.asList(engines).contains("cuda") && !Engines.cudaStatus().startsWith("available")) {
            System.out.println("SKIPPED: no CUDA device: " + Engines.cudaStatus());
            return 2;
        }
        SynthGenerator data = new SynthGenerator(synthConfig(shape.d()));
        List<LongRunParity.Result> results = new ArrayList<>();
        try (Engine a = engine(engines[0]); Engine b = engine(engines[1])) {
            for (ArchKind arch : archs) {
                LongRunParity.Result r = LongRunParity.compare(a, b, arch, shape,
                        step -> data.generate(step * shape.batch(), shape.batch()).x());
                System.out.printf(Locale.ROOT, "%-4s long run %-9s final loss %.6g vs %.6g (%.3f%%), worst L0 window "
                                + "diff %.3g, %.1f s vs %.1f s%s%n", r.passed() ? "PASS" : "FAIL", arch.id(),
                        r.finalLossA(), r.finalLossB(), 100 * r.finalLossRel(), r.worstL0Diff(), r.a().seconds(),
                        r.b().seconds(), r.passed() ? "" : ": " + r.failure());
                results.add(r);
            }
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("longrun.json"), json(shape, engines, results));
        Files.writeString(out.resolve("longrun.md"), markdown(shape, engines, results));
        plot(out.resolve("longrun-loss.png"), "training loss", engines, results, true);
        plot(out.resolve("longrun-l0.png"), "L0 (active latents per token)", engines, results, false);
        long failed = results.stream().filter(r -> !r.passed()).count();
        System.out.println((results.size() - failed) + "/" + results.size() + " long runs passed; wrote " + out);
        return failed == 0 ? 0 : 1;
    }

    /**
     * Hierarchical synthetic activations (absorption.md §6) in d dimensions: 48 trees of 4 children and 400
     * independent features on random unit directions, about 8 firing per token, so every architecture has structure
     * to learn and L0 moves over the run.
     */
    static SynthConfig synthConfig(int d) {
        return new SynthConfig(0, 0, d, 48, 4, 400, 0.05, 0.6, 0.01, 1.0, 0.15, 0.02, false, 20261130L, 65_536);
    }

    private static Engine engine(String name) {
        return switch (name) {
            case "cuda" -> Engines.cuda();
            case "cpu" -> Engines.cpu();
            case "cpu-java" -> Engines.cpu(1, true);
            default -> throw new IllegalArgumentException("--engines: unknown engine " + name + " (cuda, cpu, cpu-java)");
        };
    }

    private static String json(LongRunParity.Shape shape, String[] engines, List<LongRunParity.Result> results)
            throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("date", Instant.now().toString());
        root.put("engine_a", engines[0]);
        root.put("engine_b", engines[1]);
        ObjectNode s = root.putObject("shape");
        s.put("d", shape.d()).put("n", shape.n()).put("batch", shape.batch()).put("k", shape.k()).put("steps", shape.steps())
                .put("window", shape.window());
        ObjectNode tol = root.putObject("tolerances");
        tol.put("final_loss_rel", LongRunParity.FINAL_LOSS_REL).put("l0_window_rel", LongRunParity.L0_REL)
                .put("l0_window_abs", LongRunParity.L0_ABS);
        ArrayNode list = root.putArray("results");
        for (LongRunParity.Result r : results) {
            ObjectNode o = list.addObject();
            o.put("arch", r.arch().id()).put("passed", r.passed()).put("failure", r.failure());
            o.put("final_loss_a", r.finalLossA()).put("final_loss_b", r.finalLossB())
                    .put("final_loss_rel", r.finalLossRel()).put("worst_l0_window_diff", r.worstL0Diff())
                    .put("worst_l0_window", r.worstL0Window());
            o.put("seconds_a", r.a().seconds()).put("seconds_b", r.b().seconds());
            for (String side : List.of("a", "b")) {
                LongRunParity.Curves c = side.equals("a") ? r.a() : r.b();
                ObjectNode curves = o.putObject("curves_" + side);
                curves.set("loss", mapper.valueToTree(c.loss()));
                curves.set("mse", mapper.valueToTree(c.mse()));
                curves.set("l0", mapper.valueToTree(c.l0()));
            }
        }
        return mapper.writeValueAsString(root);
    }

    private static String markdown(LongRunParity.Shape shape, String[] engines, List<LongRunParity.Result> results) {
        StringBuilder md = new StringBuilder("## Long run: ").append(engines[0]).append(" vs ").append(engines[1])
                .append("\n\n").append(Instant.now()).append(String.format(Locale.ROOT,
                        "; d = %d, n = %d, B = %d, k = %d, %d steps from the same seed on the same synthetic batches. "
                                + "Final loss = mean of the last %d steps (bound %.0f%%); L0 compared as %d-step window "
                                + "means (bound %.0f%% + %.1f).%n%n", shape.d(), shape.n(), shape.batch(), shape.k(),
                        shape.steps(), shape.window(), 100 * LongRunParity.FINAL_LOSS_REL, shape.window(),
                        100 * LongRunParity.L0_REL, LongRunParity.L0_ABS));
        md.append("| arch | final loss ").append(engines[0]).append(" | final loss ").append(engines[1])
                .append(" | apart | worst L0 window diff | s ").append(engines[0]).append(" | s ").append(engines[1])
                .append(" | verdict |\n|---|---|---|---|---|---|---|---|\n");
        for (LongRunParity.Result r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %.6g | %.6g | %.3f%% | %.3g | %.1f | %.1f | %s |%n",
                    r.arch().id(), r.finalLossA(), r.finalLossB(), 100 * r.finalLossRel(), r.worstL0Diff(),
                    r.a().seconds(), r.b().seconds(), r.passed() ? "pass" : "FAIL: " + r.failure()));
        }
        md.append("\n![loss](longrun-loss.png)\n![L0](longrun-l0.png)\n");
        return md.toString();
    }

    private static void plot(Path file, String what, String[] engines, List<LongRunParity.Result> results, boolean loss)
            throws IOException {
        List<Plots.Series> series = new ArrayList<>();
        for (LongRunParity.Result r : results) {
            double[] steps = IntStream.rangeClosed(1, r.shape().steps()).asDoubleStream().toArray();
            series.add(new Plots.Series(r.arch().id() + " " + engines[0] + " (A)", steps, loss ? r.a().loss() : r.a().l0()));
            series.add(new Plots.Series(r.arch().id() + " " + engines[1] + " (B)", steps, loss ? r.b().loss() : r.b().l0()));
        }
        Plots.lines(file, what + ", A vs B", "step", what, series, loss);
    }

    private static int intOpt(Map<String, String> opts, String key, int dflt) {
        return Integer.parseInt(opts.getOrDefault(key, String.valueOf(dflt)));
    }
}
