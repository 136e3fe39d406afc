package dev.atmsae.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.io.AtomicFiles;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@link TrainBench}'s results for people ({@code train.md}: one median table, the peers' BLAS, the excluded peers
 * and why, where the dense steps' time goes, the targets' verdicts) and for machines ({@code train.json}: every
 * repetition's figures and the medians derived from them).
 */
final class TrainReport {
    private final List<ArchRun> runs;
    private final TrainBench.Options options;
    private final Map<String, Object> facts = new LinkedHashMap<>();

    TrainReport(List<ArchRun> runs, TrainBench.Options options, Map<String, Object> measured) {
        this.runs = runs;
        this.options = options;
        facts.put("date", Instant.now().toString());
        facts.put("cpu", cpuModel());
        facts.put("processors", Runtime.getRuntime().availableProcessors());
        String coreType = System.getenv("OPENBLAS_CORETYPE");
        facts.put("openblas_coretype", coreType == null || coreType.isBlank() ? "unset" : coreType);
        facts.put("jvm_use_avx", useAvx());
        facts.putAll(measured);
    }

    void write(Path dir) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>(facts);
        json.put("precision", "fp32 on every side");
        json.put("options", options);
        json.put("peer_gemm_floor", ArchRun.PEER_GEMM_FLOOR);
        json.put("results", runs.stream().map(TrainReport::json).toList());
        AtomicFiles.writeString(dir.resolve("train.json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json) + "\n");
        AtomicFiles.writeString(dir.resolve("train.md"), markdown());
    }

    private static Map<String, Object> json(ArchRun run) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", run.arch);
        m.put("d", run.d);
        m.put("n", run.n);
        m.put("batch", run.batch);
        m.put("peers", run.peerInfo);
        m.put("peer_tokens_per_s", run.peerTokensPerSecond);
        m.put("peer_gemm_gflops", run.peerGemm);
        m.put("engine_product_gflops", run.engineRates);
        m.put("sgemm_peak_gflops", run.peak());
        m.put("excluded_peers", run.excludedPeers());
        List<Map<String, Object>> cases = new ArrayList<>();
        for (ArchRun.CaseRun c : run.cases) {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("case", c.name);
            cm.put("l0", c.l0);
            cm.put("atmsae_tokens_per_s", c.tokensPerSecond);
            cm.put("atmsae_tokens_per_s_spread", Spread.of(c.tokensPerSecond));
            cm.put("ratio", run.ratio(c));
            cm.put("target", run.target(c));
            cm.put("dense_products", run.products(c));
            cm.put("share_of_peak", run.share(c));
            if (run.shareTargetApplies(c)) {
                double[] split = run.stepSplit(c);
                cm.put("step_s", split[0]);
                cm.put("products_s", split[1]);
                cm.put("other_s", split[2]);
            }
            cases.add(cm);
        }
        m.put("cases", cases);
        return m;
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        int reps = runs.isEmpty() ? 0 : runs.get(0).repetitions();
        sb.append("### CPU training step: atmsae vs numpy and PyTorch — medians of ").append(reps)
                .append(" paired repetitions\n\n");
        sb.append("Date ").append(facts.get("date")).append("; CPU: ").append(facts.get("cpu")).append(", ")
                .append(facts.get("processors")).append(" processors; OPENBLAS_CORETYPE ")
                .append(facts.get("openblas_coretype")).append("; JVM UseAVX=").append(facts.get("jvm_use_avx"))
                .append(String.format(Locale.ROOT, "; wall time %.1f min; 1-minute load average %.1f → %.1f.\n\n",
                        (double) facts.get("wall_seconds") / 60, (double) facts.get("load_average_start"),
                        (double) facts.get("load_average_end")));
        sb.append("- atmsae: ").append(facts.get("engine")).append('\n');
        Map<String, String> peerLines = new LinkedHashMap<>();
        for (ArchRun run : runs) {
            run.peerInfo.forEach((peer, info) -> peerLines.putIfAbsent(peer, peer + " " + info.path(peer).asText()
                    + (info.has("threads") ? ", " + info.get("threads").asInt() + " threads" : "") + ": "
                    + info.path("blas").asText("BLAS unknown")));
        }
        peerLines.values().forEach(l -> sb.append("- ").append(l).append('\n'));
        sb.append(String.format(Locale.ROOT, "%nfp32 on every side, batch %d. Each repetition times %d step%s of each "
                        + "atmsae case and of each peer back to back (atmsae first in even repetitions, last in odd ones), "
                        + "after warm-up (%d steps; atmsae's sparse and TopK cases %d, for C2); a repetition's figure is "
                        + "the median of its steps; cells are medians over the repetitions, with min–max. Cases: dense "
                        + "= a fresh SAE's first steps (about half the codes active); sparse = b_enc shifted to L0 ≈ "
                        + "%.0f (the peers run dense math either way); k = %d for the TopK family. Ratio = atmsae / the "
                        + "faster counted peer in the same repetition. Peer cells: tokens/s (its own encoder product's "
                        + "GFLOP/s). sgemm peak = the best encoder-product rate any side reached in the repetition. "
                        + "Share of peak = atmsae's dense products per step × 2·B·d·n / step time / that peak.%n%n",
                options.batch(), options.steps(), options.steps() == 1 ? "" : "s", options.warmup(), options.warmupFast(), options.targetL0(),
                options.k()));
        List<String> peers = new ArrayList<>(peerLines.keySet());
        sb.append("| arch | case | d×n | L0 | atmsae tok/s |");
        peers.forEach(p -> sb.append(' ').append(p).append(" tok/s (GEMM) |"));
        sb.append(" ratio | target | sgemm peak GFLOP/s | dense products / step | share of peak |\n|");
        sb.append("---|".repeat(10 + peers.size())).append('\n');
        List<String> misses = new ArrayList<>();
        int judged = 0;
        for (ArchRun run : runs) {
            Map<String, String> excluded = run.excludedPeers();
            for (ArchRun.CaseRun c : run.cases) {
                Spread ratio = run.ratio(c);
                Spread share = run.share(c);
                sb.append(String.format(Locale.ROOT, "| %s | %s | %d×%d | %.1f | %.0f |", run.arch, c.name, run.d,
                        run.n, Spread.of(c.l0).median(), Spread.of(c.tokensPerSecond).median()));
                for (String p : peers) {
                    Spread t = run.peerTokens(p);
                    sb.append(t.present() ? String.format(Locale.ROOT, " %.0f (%.0f)%s |", t.median(),
                            run.peerGemm(p).median(), excluded.containsKey(p) ? " excluded" : "") : " – |");
                }
                boolean met = ratio.present() && ratio.median() >= run.target(c);
                sb.append(' ').append(ratio.format("%.2f", "×")).append(" | ≥ ")
                        .append(String.format(Locale.ROOT, "%.1f×", run.target(c)))
                        .append(ratio.present() ? (met ? " met" : " **not met**") : " (no counted peer)");
                if (run.shareTargetApplies(c)) {
                    boolean shareMet = share.median() >= ArchRun.TARGET_SHARE;
                    sb.append(String.format(Locale.ROOT, "; share ≥ %.0f%%%s", 100 * ArchRun.TARGET_SHARE,
                            shareMet ? " met" : " **not met**"));
                    judged++;
                    if (!shareMet) {
                        misses.add(String.format(Locale.ROOT, "%s %s share of peak %.0f%%", run.arch, c.name,
                                100 * share.median()));
                    }
                }
                if (ratio.present()) {
                    judged++;
                    if (!met) {
                        misses.add(String.format(Locale.ROOT, "%s %s ratio %.2f× (target %.1f×)", run.arch, c.name,
                                ratio.median(), run.target(c)));
                    }
                }
                sb.append(" | ").append(run.peak().format("%.0f", "")).append(" | ").append(run.productCount(c))
                        .append(" | ").append(new Spread(100 * share.median(), 100 * share.min(), 100 * share.max(),
                                share.count()).format("%.0f", "%")).append(" |\n");
            }
        }
        sb.append('\n');
        appendExclusions(sb);
        appendStepSplits(sb);
        sb.append(String.format(Locale.ROOT, "Targets judged on the medians: %d of %d met", judged - misses.size(),
                judged)).append(misses.isEmpty() ? ".\n" : "; not met: " + String.join(", ", misses) + ".\n");
        return sb.toString();
    }

    /** Each excluded peer once, with the architectures it was excluded for and the reason (of the first). */
    private void appendExclusions(StringBuilder sb) {
        Map<String, List<String>> archs = new LinkedHashMap<>();
        Map<String, String> reasons = new LinkedHashMap<>();
        for (ArchRun run : runs) {
            run.excludedPeers().forEach((peer, reason) -> {
                archs.computeIfAbsent(peer, p -> new ArrayList<>()).add(run.arch);
                reasons.putIfAbsent(peer, reason);
            });
        }
        archs.forEach((peer, list) -> sb.append("**").append(peer).append(" is excluded** from the ratios (")
                .append(String.join(", ", list)).append("): ").append(reasons.get(peer)).append(".\n\n"));
    }

    /** Where each dense-code dense step's time goes: products at the engine's own measured rates, and the rest. */
    private void appendStepSplits(StringBuilder sb) {
        for (ArchRun run : runs) {
            for (ArchRun.CaseRun c : run.cases) {
                if (!run.shareTargetApplies(c)) {
                    continue;
                }
                double[] split = run.stepSplit(c);
                double peak = run.peak().median();
                StringBuilder rates = new StringBuilder();
                for (ProductRates.Layout layout : run.products(c).keySet()) {
                    double rate = run.engineRate(layout).median();
                    rates.append(rates.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT,
                            "%d× %s at %.0f GFLOP/s (%.0f%% of peak)", run.products(c).get(layout), layout, rate,
                            100 * rate / peak));
                }
                sb.append(String.format(Locale.ROOT, "- %s %s: step %.0f ms = dense products %.0f ms (%s) + other "
                                + "work %.0f ms (%.0f%% of the step: activations, reductions, Adam%s).%n", run.arch,
                        c.name, 1e3 * split[0], 1e3 * split[1], rates, 1e3 * split[2], 100 * split[2] / split[0],
                        run.arch.equals("atm") ? ", ATM's statistics and mask" : ""));
            }
        }
        sb.append('\n');
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

    /** The JVM's UseAVX setting (3 on AVX-512 hardware unless lowered, e.g. -XX:UseAVX=2 to emulate AVX2). */
    private static String useAvx() {
        try {
            return ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption("UseAVX").getValue();
        } catch (RuntimeException e) {
            return "?";
        }
    }
}
