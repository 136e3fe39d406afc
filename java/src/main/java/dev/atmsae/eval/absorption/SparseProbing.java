package dev.atmsae.eval.absorption;

import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.probe.BinaryMetrics;
import dev.atmsae.eval.probe.LogisticModel;
import dev.atmsae.eval.probe.LogisticRegression;
import dev.atmsae.eval.probe.Rows;
import dev.atmsae.io.SaeWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sparse probing (absorption.md §9): for each child class (each parent when the set has no children) versus all other
 * rows, choose the k inputs with the largest |mean_pos − mean_neg| on the train split (SAEBench's mean-difference rule),
 * fit a class-balanced logistic regression (L2, C = 1) on them, and measure on the test split (the probe set's split,
 * which is by file/sentence/word as the set was built). Done on SAE latents and, as the baseline, on raw activation
 * dimensions. The reported accuracy is balanced accuracy (mean of TPR and TNR), i.e. the accuracy on a class-balanced
 * test set, which is what SAEBench measures by balancing its datasets.
 */
public final class SparseProbing {
    public static final int[] DEFAULT_KS = {1, 2, 5, 10, 20};
    /** Classes with fewer positives than this in train or test are skipped (their accuracy is noise). */
    public static final int MIN_POSITIVES = 5;
    private static final int LR_ITERATIONS = 500;

    private SparseProbing() {
    }

    public record ClassRow(String name, int nTrainPositive, int nTestPositive, double[] saeAccuracy, double[] rawAccuracy,
                           int[] saeLatentsAtMaxK) {
    }

    public record Report(int[] ks, List<String> skipped, double[] meanSaeAccuracy, double[] meanRawAccuracy,
                         List<ClassRow> classes) {
    }

    /** A binary task: its name and per-row membership. */
    record Task(String name, boolean[] label) {
    }

    public static Report run(ProbeSet set, SaeWeights sae, int[] ks) {
        AbsorptionEval.checkWidth(set, sae);
        return run(set, SaeForward.encode(sae, set.acts(), set.n()), ks);
    }

    /** With precomputed SAE codes of every row of the set. */
    public static Report run(ProbeSet set, SaeForward.Codes codes, int[] ks) {
        return run(set, codes, ks, new RawCache(set, ks));
    }

    /**
     * The probes on raw activation dimensions depend only on the probe set and the k values, not on the SAE: a sweep
     * computes them once per probe set and sets every SAE beside the same numbers.
     */
    public static final class RawCache {
        private final ProbeSet set;
        private final int[] ks;
        private final java.util.concurrent.ConcurrentHashMap<String, double[]> accuracy =
                new java.util.concurrent.ConcurrentHashMap<>();

        public RawCache(ProbeSet set, int[] ks) {
            this.set = set;
            this.ks = ks.clone();
        }
    }

    /** As above, reusing (and filling) {@code cache}, which must belong to {@code set} and {@code ks}. */
    public static Report run(ProbeSet set, SaeForward.Codes codes, int[] ks, RawCache cache) {
        if (cache.set != set || !Arrays.equals(cache.ks, ks)) {
            throw new IllegalArgumentException("the raw-probe cache belongs to another probe set or k list");
        }
        int[] train = set.rowsOf(ProbeSet.TRAIN), test = set.rowsOf(ProbeSet.TEST);
        List<String> skipped = new ArrayList<>();
        List<Task> tasks = new ArrayList<>();
        for (Task t : tasks(set)) {
            int trainPos = count(t.label(), train), testPos = count(t.label(), test);
            if (trainPos < MIN_POSITIVES || testPos < MIN_POSITIVES || trainPos == train.length || testPos == test.length) {
                skipped.add(t.name() + " (" + trainPos + " train / " + testPos + " test positives)");
            } else {
                tasks.add(t);
            }
        }
        List<ClassRow> rows = tasks.parallelStream().map(t -> {
            double[] saeDiff = meanDifferenceSparse(codes, train, t.label());
            int[] saeOrder = KSparseProbing.topSigned(abs(saeDiff), Math.min(max(ks), codes.cols()));
            double[] saeAcc = new double[ks.length];
            for (int q = 0; q < ks.length; q++) {
                int[] sel = Arrays.copyOf(saeOrder, Math.min(ks[q], saeOrder.length));
                saeAcc[q] = accuracy(codes.gather(train, sel), codes.gather(test, sel), sel.length, train, test, t.label());
            }
            double[] rawAcc = cache.accuracy.computeIfAbsent(t.name(), name -> rawAccuracy(set, ks, train, test, t.label()));
            return new ClassRow(t.name(), count(t.label(), train), count(t.label(), test), saeAcc, rawAcc, saeOrder);
        }).toList();
        double[] meanSae = new double[ks.length], meanRaw = new double[ks.length];
        for (ClassRow r : rows) {
            for (int q = 0; q < ks.length; q++) {
                meanSae[q] += r.saeAccuracy()[q] / rows.size();
                meanRaw[q] += r.rawAccuracy()[q] / rows.size();
            }
        }
        return new Report(ks.clone(), skipped, meanSae, meanRaw, rows);
    }

    /** Child classes (vs all other rows), or the parents when the set has no children. */
    static List<Task> tasks(ProbeSet set) {
        List<Task> out = new ArrayList<>();
        boolean anyChildren = set.parents().stream().anyMatch(p -> !p.children().isEmpty());
        for (int p = 0; p < set.parents().size(); p++) {
            ProbeSet.ParentClass parent = set.parents().get(p);
            if (!anyChildren) {
                boolean[] y = new boolean[set.n()];
                for (int i = 0; i < y.length; i++) {
                    y[i] = set.parent()[i] == p;
                }
                out.add(new Task(parent.name(), y));
                continue;
            }
            for (int c = 0; c < parent.children().size(); c++) {
                boolean[] y = new boolean[set.n()];
                for (int i = 0; i < y.length; i++) {
                    y[i] = set.parent()[i] == p && set.child()[i] == c;
                }
                out.add(new Task(parent.name() + "/" + parent.children().get(c), y));
            }
        }
        return out;
    }

    /** The same k-sparse probes on raw activation dimensions (mean-difference selection, then logistic regression). */
    private static double[] rawAccuracy(ProbeSet set, int[] ks, int[] train, int[] test, boolean[] label) {
        double[] rawDiff = meanDifferenceDense(set.acts(), set.d(), train, label);
        int[] rawOrder = KSparseProbing.topSigned(abs(rawDiff), Math.min(max(ks), set.d()));
        double[] rawAcc = new double[ks.length];
        for (int q = 0; q < ks.length; q++) {
            int[] selRaw = Arrays.copyOf(rawOrder, Math.min(ks[q], rawOrder.length));
            rawAcc[q] = accuracy(gatherDense(set.acts(), set.d(), train, selRaw),
                    gatherDense(set.acts(), set.d(), test, selRaw), selRaw.length, train, test, label);
        }
        return rawAcc;
    }

    private static double accuracy(double[] xTrain, double[] xTest, int k, int[] train, int[] test, boolean[] label) {
        boolean[] yTrain = KSparseProbing.select(label, train), yTest = KSparseProbing.select(label, test);
        LogisticModel m = LogisticRegression.fitBalanced(Rows.dense(xTrain, train.length, k), yTrain,
                LogisticRegression.L2_SKLEARN_C1, LR_ITERATIONS);
        return BinaryMetrics.of(m.logits(Rows.dense(xTest, test.length, k)), yTest, 0.0).balancedAccuracy();
    }

    /** mean over positive train rows − mean over negative train rows, per latent (from the sparse codes). */
    static double[] meanDifferenceSparse(SaeForward.Codes codes, int[] train, boolean[] label) {
        return meanDifference(codes.cols(), train, label, (r, target) -> {
            for (int p = codes.rowPtr()[r]; p < codes.rowPtr()[r + 1]; p++) {
                target[codes.idx()[p]] += codes.val()[p];
            }
        });
    }

    /** The same per column of the dense activations x [rows, d]. */
    static double[] meanDifferenceDense(float[] x, int d, int[] train, boolean[] label) {
        return meanDifference(d, train, label, (r, target) -> {
            for (int j = 0; j < d; j++) {
                target[j] += x[r * d + j];
            }
        });
    }

    /** Adds row r's values into a per-column accumulator. */
    private interface RowAdder {
        void add(int r, double[] target);
    }

    /** Per column: mean over the positive train rows − mean over the negative ones, rows summed in train order. */
    private static double[] meanDifference(int cols, int[] train, boolean[] label, RowAdder addRow) {
        double[] pos = new double[cols], neg = new double[cols];
        int nPos = 0, nNeg = 0;
        for (int r : train) {
            if (label[r]) {
                nPos++;
            } else {
                nNeg++;
            }
            addRow.add(r, label[r] ? pos : neg);
        }
        double[] diff = new double[cols];
        for (int j = 0; j < cols; j++) {
            diff[j] = pos[j] / nPos - neg[j] / nNeg;
        }
        return diff;
    }

    private static double[] gatherDense(float[] x, int d, int[] rows, int[] cols) {
        double[] out = new double[rows.length * cols.length];
        for (int a = 0; a < rows.length; a++) {
            for (int b = 0; b < cols.length; b++) {
                out[a * cols.length + b] = x[rows[a] * d + cols[b]];
            }
        }
        return out;
    }

    private static double[] abs(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.abs(v[i]);
        }
        return out;
    }

    private static int max(int[] ks) {
        return Arrays.stream(ks).max().orElse(1);
    }

    private static int count(boolean[] label, int[] rows) {
        int c = 0;
        for (int r : rows) {
            c += label[r] ? 1 : 0;
        }
        return c;
    }
}
