package dev.atmsae.eval.absorption;

import java.util.List;

/**
 * Settings of a probe-set absorption run.
 *
 * @param minProbeF1        a parent counts only if its ground-truth probe's test F1 (p = 0.5) is &gt; this (SAEBench 0.6)
 * @param minClassesForEval fewer kept parents than this marks the result invalid (SAEBench 20 for 26 letters);
 *                          null = the default of the probe-set kind ({@link #defaultMinClasses})
 * @param parents           names of the parents to score, or null for all
 * @param maxK              k-sparse probing maximum k (10)
 * @param f1Jump            τ_fs (0.03)
 * @param probeL2           L2 of the ground-truth probe on the mean loss (1e-4, SAEBench's weight decay)
 */
public record AbsorptionOptions(double minProbeF1, Integer minClassesForEval, List<String> parents, int maxK,
                                double f1Jump, double probeL2) {
    public static AbsorptionOptions defaults() {
        return new AbsorptionOptions(0.6, null, null, KSparseProbing.MAX_K, KSparseProbing.F1_JUMP, 1e-4);
    }

    public AbsorptionOptions withMinProbeF1(double v) {
        return new AbsorptionOptions(v, minClassesForEval, parents, maxK, f1Jump, probeL2);
    }

    public AbsorptionOptions withMinClasses(Integer v) {
        return new AbsorptionOptions(minProbeF1, v, parents, maxK, f1Jump, probeL2);
    }

    public AbsorptionOptions withParents(List<String> v) {
        return new AbsorptionOptions(minProbeF1, minClassesForEval, v, maxK, f1Jump, probeL2);
    }

    /**
     * Default minimum number of kept classes per probe-set kind: SAEBench's 20 for the 26 first letters; POS has 11
     * parents of which 9 pass F1 0.8 on MiniLM layer 3 (absorption.md §9), so 5; synthetic truth sets have few
     * trees, so 1; custom sets 1.
     */
    public static int defaultMinClasses(String kind, int parentsScored) {
        return switch (kind == null ? "custom" : kind) {
            case "first-letter" -> Math.min(20, parentsScored);
            case "pos" -> Math.min(5, parentsScored);
            default -> 1;
        };
    }
}
