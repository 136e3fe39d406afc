package dev.atmsae.eval.absorption;

import dev.atmsae.eval.SaeForward;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Applies the §4.3/§4.4/§4.5 rules to the scored samples of one parent given its unit direction p̂ and main latents,
 * and tallies per-child results and absorbing latents. Shared by probe-set runs (p̂ = probe) and ground-truth runs
 * (p̂ = the true parent direction).
 */
public final class ParentScorer {
    /** Per-child label used for samples without a child. */
    public static final String NO_CHILD = "(none)";

    /** Means over the scored samples, plus per-child rows and the most frequent absorbing latents. */
    public record Scores(int nScored, double fraction, double legacy, double full,
                         List<AbsorptionReport.ChildBreakdown> children, List<AbsorptionReport.AbsorbingLatent> absorbing) {
    }

    private final SaeForward.Codes codes;
    private final double[] cos;
    private final double[] norms;
    private final int[] main;
    private final boolean[] isMain;

    /**
     * @param cos   cos(d_i, p̂) for every latent
     * @param norms ‖d_i‖ (proj_i = a_i·‖d_i‖·cos_i, which equals a_i·cos_i after folding)
     */
    public ParentScorer(SaeForward.Codes codes, double[] cos, double[] norms, int[] main) {
        this.codes = codes;
        this.cos = cos;
        this.norms = norms;
        this.main = main;
        this.isMain = new boolean[codes.cols()];
        for (int m : main) {
            isMain[m] = true;
        }
    }

    /** The rule inputs of one row, with A given. */
    public AbsorptionRules.Sample sample(int row, double a) {
        int start = codes.rowPtr()[row], end = codes.rowPtr()[row + 1];
        int len = end - start;
        int[] latent = new int[len];
        double[] act = new double[len], c = new double[len], proj = new double[len];
        boolean[] m = new boolean[len];
        for (int t = 0; t < len; t++) {
            int j = codes.idx()[start + t];
            latent[t] = j;
            act[t] = codes.val()[start + t];
            c[t] = cos[j];
            proj[t] = act[t] * norms[j] * cos[j];
            m[t] = isMain[j];
        }
        return new AbsorptionRules.Sample(latent, act, c, proj, m, a);
    }

    /**
     * The rule outcomes of one scored row: §4.3 fraction, §4.5 legacy fraction, §4.4 full absorption, and the latents
     * counted as absorbing it (the §4.3 absorbers when the fraction is positive, plus the top-projecting latent when it
     * is fully absorbed), with the sample they were computed from.
     */
    public record RowScore(AbsorptionRules.Sample sample, double fraction, double legacy, boolean full,
                           java.util.Set<Integer> absorbers) {
    }

    /** Applies the rules to one row with A = {@code a}. */
    public RowScore scoreRow(int row, double a) {
        AbsorptionRules.Sample s = sample(row, a);
        double frac = AbsorptionRules.fraction(s);
        double legacy = AbsorptionRules.legacyFraction(s);
        double[] mainActs = new double[main.length];
        for (int q = 0; q < main.length; q++) {
            mainActs[q] = codes.get(row, main[q]);
        }
        boolean full = AbsorptionRules.full(s, mainActs);
        java.util.Set<Integer> absorbers = new java.util.LinkedHashSet<>();
        if (frac > 0) {
            for (int j : AbsorptionRules.absorbers(s)) {
                absorbers.add(j);
            }
        }
        if (full) {
            absorbers.add(s.latent()[AbsorptionRules.topLatentIndex(s)]);
        }
        return new RowScore(s, frac, legacy, full, absorbers);
    }

    /** Scores rows {@code rows} with projections {@code a[t]} and child names {@code childOf[t]}. */
    public Scores score(int[] rows, double[] a, String[] childOf) {
        double sumFrac = 0, sumLegacy = 0;
        int nFull = 0;
        Map<String, double[]> perChild = new TreeMap<>(); // child → {n, sumFrac, nFull}
        Map<Integer, Integer> absorberCount = new LinkedHashMap<>();
        Map<Integer, Map<String, Integer>> absorberChildren = new LinkedHashMap<>();
        for (int t = 0; t < rows.length; t++) {
            RowScore r = scoreRow(rows[t], a[t]);
            double frac = r.fraction();
            boolean full = r.full();
            sumFrac += frac;
            sumLegacy += r.legacy();
            nFull += full ? 1 : 0;
            double[] c = perChild.computeIfAbsent(childOf[t], k -> new double[3]);
            c[0]++;
            c[1] += frac;
            c[2] += full ? 1 : 0;
            for (int j : r.absorbers()) {
                absorberCount.merge(j, 1, Integer::sum);
                absorberChildren.computeIfAbsent(j, k -> new TreeMap<>()).merge(childOf[t], 1, Integer::sum);
            }
        }
        int n = rows.length;
        List<AbsorptionReport.ChildBreakdown> children = new ArrayList<>();
        perChild.forEach((name, c) -> children.add(new AbsorptionReport.ChildBreakdown(name, (int) c[0], c[1] / c[0], c[2] / c[0])));
        List<AbsorptionReport.AbsorbingLatent> absorbing = absorberCount.entrySet().stream()
                .sorted((x, y) -> y.getValue() != x.getValue().intValue() ? Integer.compare(y.getValue(), x.getValue())
                        : Integer.compare(x.getKey(), y.getKey()))
                .limit(5)
                .map(e -> new AbsorptionReport.AbsorbingLatent(e.getKey(), e.getValue(), cos[e.getKey()],
                        absorberChildren.get(e.getKey())))
                .toList();
        return new Scores(n, n == 0 ? 0 : sumFrac / n, n == 0 ? 0 : sumLegacy / n, n == 0 ? 0 : (double) nFull / n,
                children, absorbing);
    }
}
