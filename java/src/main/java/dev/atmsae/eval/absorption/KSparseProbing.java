package dev.atmsae.eval.absorption;

import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.probe.BinaryMetrics;
import dev.atmsae.eval.probe.L1LogisticProbe;
import dev.atmsae.eval.probe.LogisticModel;
import dev.atmsae.eval.probe.LogisticRegression;
import dev.atmsae.eval.probe.Rows;
import java.util.List;

/**
 * k-sparse probing → main ("split") latents of one class (absorption.md §3): an L1 logistic probe on the SAE codes of
 * the train rows ranks latents by signed weight; for k = 1..maxK a class-balanced logistic regression (L2, C = 1) on
 * the top-k latents is scored by test F1; k grows while F1 jumps by more than τ_fs.
 */
public final class KSparseProbing {
    public static final int MAX_K = 10;
    public static final double F1_JUMP = 0.03;
    private static final int L1_ITERATIONS = 300;
    private static final int LR_ITERATIONS = 500;

    /**
     * @param ranked  the maxK latents with the largest signed L1-probe weights, largest first (ties by index)
     * @param f1PerK  test F1 of the k-latent probe, k = 1..f1PerK.length (stops after the first rejected k)
     * @param main    the accepted latent set S_k*
     */
    public record Result(int[] ranked, double[] f1PerK, int[] main) {
    }

    private KSparseProbing() {
    }

    /** Runs the selection for one class; {@code label[r]} is the class membership of every row of {@code codes}. */
    public static Result run(SaeForward.Codes codes, int[] trainRows, int[] testRows, boolean[] label, int maxK, double tau) {
        int[] ranked = rankedLatents(codes, trainRows, List.of(label), maxK).get(0);
        return selectMain(codes, trainRows, testRows, label, ranked, tau);
    }

    /**
     * For each class (label over every row of {@code codes}), the maxK latents with the largest signed weights of its
     * L1 probe on the train rows, largest first. The classes are fitted in lockstep ({@link L1LogisticProbe#fitAll}),
     * split into as many interleaved groups as run in parallel; each class's result does not depend on the grouping.
     */
    public static List<int[]> rankedLatents(SaeForward.Codes codes, int[] trainRows, List<boolean[]> labels, int maxK) {
        Rows train = Rows.sparse(codes, trainRows);
        return LockstepGroups.map(labels, group -> L1LogisticProbe.fitAll(train,
                        group.stream().map(label -> select(label, trainRows)).toList(), L1LogisticProbe.L1,
                        L1LogisticProbe.L2, L1_ITERATIONS).stream()
                .map(model -> topSigned(model.w(), Math.min(maxK, codes.cols()))).toList());
    }

    /** Steps 3–6 of §3 for one class given its L1-probe ranking: F1 of the top-k probes while F1 jumps by &gt; τ. */
    public static Result selectMain(SaeForward.Codes codes, int[] trainRows, int[] testRows, boolean[] label, int[] ranked,
                                double tau) {
        boolean[] yTrain = select(label, trainRows);
        boolean[] yTest = select(label, testRows);
        return accept(ranked, k -> f1AtK(codes, trainRows, testRows, yTrain, yTest, java.util.Arrays.copyOf(ranked, k)), tau);
    }

    /** The F1-jump rule of §3 step 6 over precomputed or lazily computed F1_k. */
    public static Result accept(int[] ranked, java.util.function.IntToDoubleFunction f1OfK, double tau) {
        double prev = -100;
        int accepted = 0;
        double[] f1s = new double[ranked.length];
        int computed = 0;
        for (int k = 1; k <= ranked.length; k++) {
            double f1 = f1OfK.applyAsDouble(k);
            f1s[computed++] = f1;
            if (f1 > prev + tau) {
                prev = f1;
                accepted = k;
            } else {
                break;
            }
        }
        return new Result(ranked, java.util.Arrays.copyOf(f1s, computed), java.util.Arrays.copyOf(ranked, accepted));
    }

    /** Test F1 of a balanced L2 (C = 1) logistic regression on the given latents. */
    public static double f1AtK(SaeForward.Codes codes, int[] trainRows, int[] testRows, boolean[] yTrain, boolean[] yTest,
                               int[] latents) {
        int k = latents.length;
        Rows train = Rows.dense(codes.gather(trainRows, latents), trainRows.length, k);
        LogisticModel model = LogisticRegression.fitBalanced(train, yTrain, LogisticRegression.L2_SKLEARN_C1, LR_ITERATIONS);
        Rows test = Rows.dense(codes.gather(testRows, latents), testRows.length, k);
        return BinaryMetrics.of(model.logits(test), yTest, 0.0).f1();
    }

    /** Indices of the k largest values (signed, not absolute), ties by lower index. */
    public static int[] topSigned(double[] w, int k) {
        return java.util.stream.IntStream.range(0, w.length).boxed()
                .sorted((a, b) -> w[a] != w[b] ? Double.compare(w[b], w[a]) : Integer.compare(a, b))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }

    static boolean[] select(boolean[] label, int[] rows) {
        boolean[] out = new boolean[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = label[rows[i]];
        }
        return out;
    }
}
