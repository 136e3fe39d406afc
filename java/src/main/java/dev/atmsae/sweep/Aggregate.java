package dev.atmsae.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs of one (architecture, L0 target) cell summarised over seeds: mean and the half-width of a 95% confidence
 * interval (Student t over seeds; 0 with a single seed) for every metric the report shows.
 */
public record Aggregate(String arch, double targetL0, int seeds, Map<String, double[]> meanAndHalfWidth) {
    /** The metrics aggregated, as dotted paths into {@link RunResult#toMap()}, with their report labels. */
    public static final Map<String, String> METRICS = metrics();

    private static Map<String, String> metrics() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("core.l0", "L0");
        m.put("core.fvu", "FVU");
        m.put("core.cosine_sim", "cosine");
        m.put("core.dead_fraction", "dead");
        m.put("absorption.absorption_fraction", "absorption fraction (probe set)");
        m.put("absorption.absorption_fraction_legacy", "legacy fraction (probe set)");
        m.put("absorption.full_absorption", "full absorption (probe set)");
        m.put("absorption.paper_score", "paper score (probe set)");
        m.put("truth.absorption_fraction", "absorption fraction (truth)");
        m.put("truth.full_absorption", "full absorption (truth)");
        m.put("truth.paper_score", "paper score (truth)");
        m.put("truth.mmcs", "MMCS (truth)");
        return m;
    }

    public double mean(String metric) {
        double[] v = meanAndHalfWidth.get(metric);
        return v == null ? Double.NaN : v[0];
    }

    public double halfWidth(String metric) {
        double[] v = meanAndHalfWidth.get(metric);
        return v == null ? Double.NaN : v[1];
    }

    /** Groups runs by (arch, L0 target) in first-seen order. */
    public static List<Aggregate> of(List<RunResult> runs) {
        Map<String, List<RunResult>> cells = new LinkedHashMap<>();
        for (RunResult r : runs) {
            cells.computeIfAbsent(r.arch() + "|" + r.targetL0(), k -> new ArrayList<>()).add(r);
        }
        List<Aggregate> out = new ArrayList<>();
        for (List<RunResult> cell : cells.values()) {
            Map<String, double[]> stats = new LinkedHashMap<>();
            for (String metric : METRICS.keySet()) {
                stats.put(metric, meanAndHalfWidth(cell.stream().mapToDouble(r -> r.metric(metric)).toArray()));
            }
            for (int k : SPARSE_PROBING_KS) {
                for (String key : List.of("sae_accuracy", "raw_accuracy")) {
                    stats.put("sparse_probing." + key + "_k" + k, meanAndHalfWidth(cell.stream()
                            .mapToDouble(r -> accuracyAt(r, key, k)).toArray()));
                }
            }
            out.add(new Aggregate(cell.get(0).arch(), cell.get(0).targetL0(), cell.size(), stats));
        }
        return out;
    }

    /** The sparse-probing k values the report shows (each must be among the sweep's ks to be measured). */
    static final int[] SPARSE_PROBING_KS = {1, 5};

    /** Sparse-probing accuracy ({@code key} = sae_accuracy | raw_accuracy) at {@code k}, or NaN when not measured. */
    private static double accuracyAt(RunResult r, String key, int k) {
        if (r.sparseProbing() == null || !(r.sparseProbing().get("ks") instanceof List<?> ks)
                || !(r.sparseProbing().get(key) instanceof List<?> accuracy)) {
            return Double.NaN;
        }
        int at = ks.indexOf(k);
        return at >= 0 && accuracy.get(at) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** Mean and 95% Student-t half-width of the finite values (NaN mean when none). */
    static double[] meanAndHalfWidth(double[] values) {
        double sum = 0;
        int n = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                sum += v;
                n++;
            }
        }
        if (n == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double mean = sum / n;
        if (n == 1) {
            return new double[] {mean, 0};
        }
        double ss = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                ss += (v - mean) * (v - mean);
            }
        }
        double sd = Math.sqrt(ss / (n - 1));
        return new double[] {mean, T95[Math.min(n - 1, T95.length - 1)] * sd / Math.sqrt(n)};
    }

    /** Two-sided 95% Student-t quantiles by degrees of freedom (index 0 unused); ≥ 30 dof uses 2.042→1.96-ish. */
    private static final double[] T95 = {Double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
        2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
        2.056, 2.052, 2.048, 2.045, 2.042};

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch);
        m.put("target_l0", targetL0);
        m.put("seeds", seeds);
        Map<String, Object> s = new LinkedHashMap<>();
        meanAndHalfWidth.forEach((k, v) -> {
            Map<String, Object> cell = new LinkedHashMap<>();
            cell.put("mean", Double.isNaN(v[0]) ? null : v[0]);
            cell.put("ci95", Double.isNaN(v[1]) ? null : v[1]);
            s.put(k, cell);
        });
        m.put("metrics", s);
        return m;
    }
}
