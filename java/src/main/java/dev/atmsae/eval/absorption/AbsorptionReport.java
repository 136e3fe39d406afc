package dev.atmsae.eval.absorption;

import java.util.List;
import java.util.Map;

/**
 * Result of a probe-set absorption run; serialised to JSON as-is (Jackson, snake_case names via {@link ReportWriter}).
 *
 * @param meanAbsorptionFraction       mean over kept classes of the §4.3 fraction (primary number)
 * @param meanAbsorptionFractionLegacy mean over kept classes of the §4.5 fraction (comparable with published 0125)
 * @param meanFullAbsorption           mean over kept classes of the §4.4 full-absorption rate
 * @param meanAbsorptionScore          the early-SAEBench / ATM-paper score = {@code meanFullAbsorption}
 * @param valid                        false when fewer than minClassesForEval classes were kept (SAEBench skips)
 */
public record AbsorptionReport(String ruleVersion, String probeSet, String probeSetKind, Map<String, Object> probeSetSource,
                               Map<String, Object> sae, double minProbeF1, int minClassesForEval, int classesKept,
                               boolean valid, Double meanAbsorptionFraction, Double meanAbsorptionFractionLegacy,
                               Double meanFullAbsorption, Double meanAbsorptionScore, Double meanNumSplitFeatures,
                               Double stdAbsorptionFraction, Double stdAbsorptionFractionLegacy,
                               Double stdFullAbsorption, Double stdNumSplitFeatures,
                               List<DroppedClass> dropped, List<ClassResult> classes) {

    /** A class left out of the means, and why. */
    public record DroppedClass(String name, String reason) {
    }

    /** Test-split quality of the ground-truth probe at logit &gt; 0 and at a train-tuned threshold. */
    public record ProbeQuality(int nTrainPositive, int nTestPositive, double precision, double recall, double f1,
                               double tunedThreshold, double tunedPrecision, double tunedRecall, double tunedF1) {
    }

    /** Absorption restricted to scored samples of one child class ("(none)" = the parent without a child label). */
    public record ChildBreakdown(String child, int nScored, double absorptionFraction, double fullAbsorption) {
    }

    /** A latent that absorbs the parent: how often it was among the absorbers, its cos with p̂, per-child counts. */
    public record AbsorbingLatent(int latent, int count, double cosWithProbe, Map<String, Integer> children) {
    }

    public record ClassResult(String name, boolean kept, String dropReason, ProbeQuality probe, int[] mainLatents,
                              double[] f1PerK, int topCosLatent, double topCos, int nScored,
                              double absorptionFraction, double absorptionFractionLegacy, double fullAbsorption,
                              List<ChildBreakdown> children, List<AbsorbingLatent> absorbingLatents) {
    }
}
