package dev.atmsae.sweep;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.Safetensors;
import dev.atmsae.report.MarkdownTable;
import dev.atmsae.report.Plots;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns sweep results into a comparison table and PNG plots: training curves, absorption vs L0 and FVU vs L0 with
 * 95% confidence intervals over seeds, the feature-density histogram, and per-class absorption.
 */
public final class SweepReport {
    private SweepReport() {
    }

    /**
     * Writes the sweep's report into its output directory: sweep.md (the comparison table and the plots) and the PNGs;
     * returns the table (the CLI prints it).
     */
    public static MarkdownTable write(SweepSpec spec, List<RunResult> runs) throws IOException {
        List<Aggregate> cells = Aggregate.of(runs);
        MarkdownTable table = table(cells, spec.probeSet() != null, spec.truth() != null);
        Map<String, String> plots = plots(spec.out(), "", runs, cells);
        StringBuilder md = new StringBuilder("# atmsae sweep\n\n").append(table.render()).append('\n');
        plots.forEach((title, file) -> md.append("## ").append(title).append("\n\n![").append(title).append("](")
                .append(file).append(")\n\n"));
        AtomicFiles.writeString(spec.out().resolve("sweep.md"), md.toString());
        return table;
    }

    /** The comparison table (rows: architecture × L0 target; columns: the report's metrics as mean ± CI). */
    public static MarkdownTable table(List<Aggregate> cells, boolean withProbeSet, boolean withTruth) {
        List<String> header = new ArrayList<>(List.of("arch", "target L0", "seeds", "L0", "FVU", "cosine", "dead %"));
        if (withProbeSet) {
            header.addAll(List.of("abs. fraction (probe set)", "full abs. (probe set)", "paper score (probe set)", "sparse probe acc k=1"));
        }
        if (withTruth) {
            header.addAll(List.of("abs. fraction (truth)", "full abs. (truth)", "paper score (truth)", "MMCS (truth)"));
        }
        MarkdownTable t = new MarkdownTable(header.toArray(String[]::new));
        for (Aggregate a : cells) {
            List<Object> row = new ArrayList<>(List.of(a.arch(), MarkdownTable.num(a.targetL0()), a.seeds(),
                    ci(a, "core.l0"), ci(a, "core.fvu"), ci(a, "core.cosine_sim"),
                    MarkdownTable.num(100 * a.mean("core.dead_fraction"))));
            if (withProbeSet) {
                row.addAll(List.of(ci(a, "absorption.absorption_fraction"), ci(a, "absorption.full_absorption"),
                        ci(a, "absorption.paper_score"), ci(a, "sparse_probing.sae_accuracy_k1")));
            }
            if (withTruth) {
                row.addAll(List.of(ci(a, "truth.absorption_fraction"), ci(a, "truth.full_absorption"),
                        ci(a, "truth.paper_score"), ci(a, "truth.mmcs")));
            }
            t.row(row.toArray());
        }
        return t;
    }

    private static String ci(Aggregate a, String metric) {
        return MarkdownTable.withCi(a.mean(metric), a.halfWidth(metric));
    }

    /**
     * Writes the plots into {@code dir} with {@code prefix} (e.g. "pos-"); returns (title → file name) in order.
     * Plots whose data is absent (no probe set, no truth set) are left out.
     */
    public static Map<String, String> plots(Path dir, String prefix, List<RunResult> runs, List<Aggregate> cells)
            throws IOException {
        Map<String, String> written = new LinkedHashMap<>();
        Set<String> archs = new LinkedHashSet<>();
        cells.forEach(c -> archs.add(c.arch()));
        String[][] curves = {
            {"core.fvu", "FVU vs L0", "FVU", "fvu-vs-l0.png"},
            {"absorption.absorption_fraction", "Absorption fraction (probe set) vs L0", "absorption fraction", "absorption-vs-l0.png"},
            {"absorption.full_absorption", "Full absorption (probe set) vs L0", "full absorption", "full-absorption-vs-l0.png"},
            {"truth.absorption_fraction", "Absorption fraction (ground truth) vs L0", "absorption fraction", "truth-absorption-vs-l0.png"},
        };
        for (String[] c : curves) {
            List<Plots.Series> series = new ArrayList<>();
            for (String arch : archs) {
                List<Aggregate> mine = cells.stream().filter(a -> a.arch().equals(arch) && Double.isFinite(a.mean(c[0])))
                        .sorted((x, y) -> Double.compare(x.mean("core.l0"), y.mean("core.l0"))).toList();
                if (!mine.isEmpty()) {
                    series.add(new Plots.Series(arch, mine.stream().mapToDouble(a -> a.mean("core.l0")).toArray(),
                            mine.stream().mapToDouble(a -> a.mean(c[0])).toArray(),
                            mine.stream().mapToDouble(a -> Math.max(0, a.halfWidth(c[0]))).toArray()));
                }
            }
            if (!series.isEmpty()) {
                Plots.lines(dir.resolve(prefix + c[3]), c[1] + " (95% CI over seeds)", "measured L0", c[2], series, false);
                written.put(c[1], prefix + c[3]);
            }
        }
        List<RunResult> representative = representativeRuns(runs);
        List<Plots.Series> loss = new ArrayList<>();
        Map<String, double[]> density = new LinkedHashMap<>();
        for (RunResult r : representative) {
            double[][] curve = trainingCurve(Path.of(r.dir()).resolve("metrics.jsonl"), "mse");
            if (curve != null) {
                loss.add(new Plots.Series(r.arch(), curve[0], curve[1]));
            }
            Path sparsity = Path.of(r.dir()).resolve("sparsity.safetensors");
            if (Files.exists(sparsity)) {
                try (Safetensors.Reader reader = Safetensors.open(sparsity)) {
                    float[] logFreq = reader.floats("sparsity");
                    double[] v = new double[logFreq.length];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = logFreq[i];
                    }
                    density.put(r.arch(), v);
                }
            }
        }
        if (!loss.isEmpty()) {
            Plots.lines(dir.resolve(prefix + "training-curves.png"), "Training reconstruction loss (MSE, scaled inputs)",
                    "step", "MSE", loss, true);
            written.put("Training curves", prefix + "training-curves.png");
        }
        if (!density.isEmpty()) {
            Plots.histogram(dir.resolve(prefix + "feature-density.png"), "Feature density (log10 firing frequency)",
                    "log10 frequency", density, 25, -10, 0);
            written.put("Feature density", prefix + "feature-density.png");
        }
        Map<String, double[]> perClass = new LinkedHashMap<>();
        List<String> classes = new ArrayList<>();
        for (RunResult r : representative) {
            if (r.absorption() != null && r.absorption().get("per_class_fraction") instanceof Map<?, ?> m) {
                m.keySet().forEach(k -> {
                    if (!classes.contains(k.toString())) {
                        classes.add(k.toString());
                    }
                });
            }
        }
        for (RunResult r : representative) {
            if (r.absorption() != null && r.absorption().get("per_class_fraction") instanceof Map<?, ?> m) {
                double[] v = new double[classes.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = m.get(classes.get(i)) instanceof Number n ? n.doubleValue() : 0;
                }
                perClass.put(r.arch(), v);
            }
        }
        if (!classes.isEmpty()) {
            Plots.bars(dir.resolve(prefix + "per-class-absorption.png"), "Absorption fraction per parent class",
                    "absorption fraction", classes, perClass);
            written.put("Per-class absorption", prefix + "per-class-absorption.png");
        }
        return written;
    }

    /** One run per architecture: the first seed at the middle L0 target. */
    static List<RunResult> representativeRuns(List<RunResult> runs) {
        List<Double> l0s = runs.stream().map(RunResult::targetL0).distinct().sorted().toList();
        double mid = l0s.get(l0s.size() / 2);
        Map<String, RunResult> pick = new LinkedHashMap<>();
        for (RunResult r : runs) {
            if (r.targetL0() == mid) {
                pick.putIfAbsent(r.arch(), r);
            }
        }
        return new ArrayList<>(pick.values());
    }

    /** (steps, values) of one field of a metrics.jsonl stream, or null when the file is missing. */
    static double[][] trainingCurve(Path jsonl, String field) throws IOException {
        if (!Files.exists(jsonl)) {
            return null;
        }
        List<double[]> points = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> m = Sweep.JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() { });
            if (m.get("step") instanceof Number s && m.get(field) instanceof Number v && Double.isFinite(v.doubleValue())
                    && v.doubleValue() > 0) {
                points.add(new double[] {s.doubleValue(), v.doubleValue()});
            }
        }
        if (points.isEmpty()) {
            return null;
        }
        return new double[][] {points.stream().mapToDouble(p -> p[0]).toArray(),
            points.stream().mapToDouble(p -> p[1]).toArray()};
    }
}
