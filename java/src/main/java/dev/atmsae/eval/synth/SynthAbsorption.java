package dev.atmsae.eval.synth;

import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.AbsorptionRules;
import dev.atmsae.eval.absorption.KSparseProbing;
import dev.atmsae.eval.absorption.ParentScorer;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.util.ArrayList;
import java.util.List;

/**
 * Absorption with ground truth (absorption.md §6, §9): per tree root P, p̂ = f_P, A = x·f_P, scored samples = the
 * held-out test samples where P is truly active; main latents by the k-sparse rule of §3 on the true labels (train =
 * first 80% of the held-out samples) and, as a cross-check, {argmax_i cos(d_i, f_P)}; then §4.3/§4.4/§4.5. Also the
 * direct silence rates of the parent latent with and without a child, the child latents' cosine with f_P, MMCS and
 * Hungarian-matched MCC over all true features.
 */
public final class SynthAbsorption {
    private SynthAbsorption() {
    }

    /**
     * One tree root. "ks" numbers use the k-sparse main latents, "cos" numbers use {argmax cos(d_i, f_P)}.
     *
     * @param silentGivenChild   P(parent latent &lt; 1e-8 | P on, a child on), parent latent = argmax cos with f_P
     * @param silentGivenNoChild P(parent latent &lt; 1e-8 | P on, no child on)
     * @param childLatentCosWithParent mean over children c of cos(d_{argmax cos with f_c}, f_P): a child latent
     *                                 that also writes the parent's direction (absorption's decoder signature)
     * @param parentLatentCosWithChildren cos(d_parent latent, Σ_c f_c / ‖Σ_c f_c‖): a parent latent that writes its
     *                                 children's directions too (feature hedging's signature)
     * (each null when undefined: no samples of that kind, or no children)
     */
    public record TreeResult(String root, int nScored, int[] mainLatents, double[] f1PerK, double fraction,
                             double legacy, double full, int parentLatent, double parentLatentCos, double fractionCos,
                             double legacyCos, double fullCos, Double silentGivenChild, Double silentGivenNoChild,
                             Double childLatentCosWithParent, Double parentLatentCosWithChildren,
                             List<AbsorptionReport.ChildBreakdown> children,
                             List<AbsorptionReport.AbsorbingLatent> absorbingLatents) {
    }

    public record Report(String ruleVersion, int evalSamples, double mmcs, double mcc, Double meanAbsorptionFraction,
                         Double meanAbsorptionFractionLegacy, Double meanFullAbsorption, Double meanNumSplitFeatures,
                         Double meanAbsorptionFractionCos, Double meanFullAbsorptionCos, Double meanSilentGivenChild,
                         Double meanSilentGivenNoChild, Double meanChildLatentCosWithParent, Double meanParentLatentCos,
                         Double meanParentLatentCosWithChildren, List<TreeResult> trees) {
    }

    /** Scores the SAE on the generator's held-out samples. */
    public static Report run(SynthGenerator gen, SaeWeights sae) {
        SynthConfig cfg = gen.config();
        if (sae.dIn() != cfg.d()) {
            throw new UserError("SAE d_in = " + sae.dIn() + " but the synthetic data has d = " + cfg.d());
        }
        if (cfg.evalTokens() < 10) {
            throw new UserError("synthetic truth has only " + cfg.evalTokens() + " held-out samples; need at least 10");
        }
        return run(gen, gen.generate(cfg.tokens(), cfg.evalTokens()), sae);
    }

    public static Report run(SynthGenerator gen, SynthGenerator.Batch batch, SaeWeights sae) {
        SynthConfig cfg = gen.config();
        int n = batch.count(), d = cfg.d();
        SaeForward.Codes codes = SaeForward.encode(sae, batch.x(), n);
        double[] norms = SaeForward.decoderNorms(sae);
        float[] dirs = gen.directions();
        int cut = (int) Math.round(0.8 * n);
        int[] train = java.util.stream.IntStream.range(0, cut).toArray();
        int[] test = java.util.stream.IntStream.range(cut, n).toArray();
        List<TreeResult> trees = java.util.stream.IntStream.range(0, cfg.trees()).parallel()
                .mapToObj(t -> scoreTree(cfg, batch, codes, sae, norms, dirs, train, test, t)).toList();
        double[][] cosMatrix = cosines(sae, dirs, cfg.features(), d);
        double mmcs = 0;
        for (double[] row : cosMatrix) {
            double best = Double.NEGATIVE_INFINITY;
            for (double c : row) {
                best = Math.max(best, c);
            }
            mmcs += best / cosMatrix.length;
        }
        return new Report(AbsorptionRules.RULE_VERSION, n, mmcs, mcc(cosMatrix),
                AbsorptionEval.mean(trees.stream().mapToDouble(TreeResult::fraction).toArray()),
                AbsorptionEval.mean(trees.stream().mapToDouble(TreeResult::legacy).toArray()),
                AbsorptionEval.mean(trees.stream().mapToDouble(TreeResult::full).toArray()),
                AbsorptionEval.mean(trees.stream().mapToDouble(r -> r.mainLatents().length).toArray()),
                AbsorptionEval.mean(trees.stream().mapToDouble(TreeResult::fractionCos).toArray()),
                AbsorptionEval.mean(trees.stream().mapToDouble(TreeResult::fullCos).toArray()),
                meanDefined(trees.stream().map(TreeResult::silentGivenChild).toList()),
                meanDefined(trees.stream().map(TreeResult::silentGivenNoChild).toList()),
                meanDefined(trees.stream().map(TreeResult::childLatentCosWithParent).toList()),
                AbsorptionEval.mean(trees.stream().mapToDouble(TreeResult::parentLatentCos).toArray()),
                meanDefined(trees.stream().map(TreeResult::parentLatentCosWithChildren).toList()), trees);
    }

    private static TreeResult scoreTree(SynthConfig cfg, SynthGenerator.Batch b, SaeForward.Codes codes, SaeWeights sae,
                                        double[] norms, float[] dirs, int[] train, int[] test, int t) {
        int root = cfg.root(t), d = cfg.d();
        double[] fP = direction(dirs, root, d);
        double[] cos = SaeForward.decoderCosines(sae, fP);
        int parentLatent = argmax(cos);
        boolean[] label = new boolean[b.count()];
        int[] childOf = new int[b.count()];
        for (int r = 0; r < b.count(); r++) {
            childOf[r] = -1;
            for (int p = b.rowPtr()[r]; p < b.rowPtr()[r + 1]; p++) {
                int f = b.feature()[p];
                if (f == root) {
                    label[r] = true;
                } else if (f > root && f <= root + cfg.children()) {
                    childOf[r] = f - root - 1;
                }
            }
        }
        KSparseProbing.Result ks = KSparseProbing.run(codes, train, test, label, KSparseProbing.MAX_K, KSparseProbing.F1_JUMP);
        int[] scored = java.util.Arrays.stream(test).filter(r -> label[r]).toArray();
        double[] a = new double[scored.length];
        String[] childName = new String[scored.length];
        for (int q = 0; q < scored.length; q++) {
            int r = scored[q];
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += b.x()[r * d + i] * fP[i];
            }
            a[q] = dot;
            childName[q] = childOf[r] < 0 ? ParentScorer.NO_CHILD : "f" + cfg.child(t, childOf[r]);
        }
        ParentScorer.Scores byKs = new ParentScorer(codes, cos, norms, ks.main()).score(scored, a, childName);
        ParentScorer.Scores byCos = new ParentScorer(codes, cos, norms, new int[] {parentLatent}).score(scored, a, childName);
        // silence of the parent latent on all held-out samples with P on (train and test: no fitting is involved)
        int withChild = 0, silentWithChild = 0, noChild = 0, silentNoChild = 0;
        for (int r = 0; r < b.count(); r++) {
            if (!label[r]) {
                continue;
            }
            boolean silent = codes.get(r, parentLatent) < AbsorptionRules.NOT_FIRING;
            if (childOf[r] >= 0) {
                withChild++;
                silentWithChild += silent ? 1 : 0;
            } else {
                noChild++;
                silentNoChild += silent ? 1 : 0;
            }
        }
        double childCos = 0;
        double[] childSum = new double[d];
        for (int c = 0; c < cfg.children(); c++) {
            double[] fC = direction(dirs, cfg.child(t, c), d);
            double[] cosChild = SaeForward.decoderCosines(sae, fC);
            childCos += cos[argmax(cosChild)] / cfg.children();
            for (int i = 0; i < d; i++) {
                childSum[i] += fC[i];
            }
        }
        Double hedge = null;
        if (cfg.children() > 0) {
            hedge = SaeForward.decoderCosines(sae, childSum)[parentLatent];
        }
        return new TreeResult("f" + root, scored.length, ks.main(), ks.f1PerK(), byKs.fraction(), byKs.legacy(),
                byKs.full(), parentLatent, cos[parentLatent], byCos.fraction(), byCos.legacy(), byCos.full(),
                withChild == 0 ? null : (Double) ((double) silentWithChild / withChild),
                noChild == 0 ? null : (Double) ((double) silentNoChild / noChild),
                cfg.children() == 0 ? null : (Double) childCos, hedge, byKs.children(), byKs.absorbing());
    }

    /** cos(f_j, d_i) for every true feature j (rows) and latent i (columns). */
    public static double[][] cosines(SaeWeights sae, float[] dirs, int features, int d) {
        double[][] out = new double[features][];
        for (int j = 0; j < features; j++) {
            out[j] = SaeForward.decoderCosines(sae, direction(dirs, j, d));
        }
        return out;
    }

    /** Mean |cos| over a maximum-weight one-to-one matching of true features and latents (SAELens' MCC). */
    public static double mcc(double[][] cos) {
        int f = cos.length, m = cos[0].length;
        boolean transpose = f > m;
        int rows = transpose ? m : f, cols = transpose ? f : m;
        double[] cost = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                cost[r * cols + c] = -Math.abs(transpose ? cos[c][r] : cos[r][c]);
            }
        }
        int[] match = Hungarian.assign(cost, rows, cols);
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            sum += -cost[r * cols + match[r]];
        }
        return sum / rows;
    }

    static double[] direction(float[] dirs, int f, int d) {
        double[] out = new double[d];
        for (int i = 0; i < d; i++) {
            out[i] = dirs[f * d + i];
        }
        return out;
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) {
            if (v[j] > v[best]) {
                best = j;
            }
        }
        return best;
    }

    private static Double meanDefined(List<Double> v) {
        return AbsorptionEval.mean(v.stream().filter(java.util.Objects::nonNull).mapToDouble(Double::doubleValue).toArray());
    }
}
