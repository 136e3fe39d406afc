package dev.atmsae.eval.probe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.core.Philox;
import dev.atmsae.eval.SaeForward;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The FISTA L1 probe on sparse codes: its result satisfies the optimality (KKT) conditions of the objective computed
 * independently in float64, and fitting several classes in lockstep gives each class the bits of its own fit.
 */
class L1LogisticProbeTest {
    private static final int ROWS = 400;
    private static final int LATENTS = 30;

    /** Sparse positive codes where latent c·3 fires more often on rows of class c (3 classes). */
    private static SaeForward.Codes codes(int[] classOf) {
        int[] rowPtr = new int[ROWS + 1];
        List<Integer> idx = new ArrayList<>();
        List<Float> val = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            classOf[r] = (int) (Philox.uniform(9, Philox.STREAM_PROBE, r) * 3);
            for (int j = 0; j < LATENTS; j++) {
                double u = Philox.uniform(9, Philox.STREAM_PROBE, 1000 + (long) r * LATENTS + j);
                boolean fires = u < (j == 3 * classOf[r] ? 0.8 : 0.12);
                if (fires) {
                    idx.add(j);
                    val.add((float) (0.2 + Math.abs(Philox.gaussian(9, Philox.STREAM_PROBE, 90_000 + (long) r * LATENTS + j))));
                }
            }
            rowPtr[r + 1] = idx.size();
        }
        float[] v = new float[val.size()];
        for (int p = 0; p < v.length; p++) {
            v[p] = val.get(p);
        }
        return new SaeForward.Codes(ROWS, LATENTS, rowPtr, idx.stream().mapToInt(Integer::intValue).toArray(), v);
    }

    private static boolean[] label(int[] classOf, int c) {
        boolean[] y = new boolean[classOf.length];
        for (int r = 0; r < y.length; r++) {
            y[r] = classOf[r] == c;
        }
        return y;
    }

    @Test
    void lockstepFitsGiveEachClassTheBitsOfItsOwnFit() {
        int[] classOf = new int[ROWS];
        SaeForward.Codes codes = codes(classOf);
        int[] sel = new int[ROWS - 7];
        for (int t = 0; t < sel.length; t++) {
            sel[t] = t + 3; // a subset of the rows, as the train split is
        }
        Rows x = Rows.sparse(codes, sel);
        List<boolean[]> labels = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            boolean[] y = new boolean[sel.length];
            for (int t = 0; t < sel.length; t++) {
                y[t] = classOf[sel[t]] == c;
            }
            labels.add(y);
        }
        labels.add(new boolean[sel.length]); // no positives: w = 0, stops at once while the others run on
        List<LogisticModel> together = L1LogisticProbe.fitAll(x, labels, L1LogisticProbe.L1, L1LogisticProbe.L2, 300);
        for (int c = 0; c < labels.size(); c++) {
            LogisticModel alone = L1LogisticProbe.fit(x, labels.get(c), L1LogisticProbe.L1, L1LogisticProbe.L2, 300);
            assertArrayEquals(alone.w(), together.get(c).w(), 0.0, "class " + c);
            assertEquals(Double.doubleToRawLongBits(alone.b()), Double.doubleToRawLongBits(together.get(c).b()));
        }
        // the same rows as a dense matrix (default transposeTimes, dot over every column) give the same bits too:
        // the skipped terms are products with exact zeros
        double[] dense = new double[sel.length * LATENTS];
        for (int t = 0; t < sel.length; t++) {
            for (int p = codes.rowPtr()[sel[t]]; p < codes.rowPtr()[sel[t] + 1]; p++) {
                dense[t * LATENTS + codes.idx()[p]] = codes.val()[p];
            }
        }
        List<LogisticModel> viaDense = L1LogisticProbe.fitAll(Rows.dense(dense, sel.length, LATENTS), labels,
                L1LogisticProbe.L1, L1LogisticProbe.L2, 300);
        for (int c = 0; c < labels.size(); c++) {
            assertArrayEquals(together.get(c).w(), viaDense.get(c).w(), 0.0, "dense class " + c);
        }
    }

    @Test
    void fittedProbeMeetsTheOptimalityConditionsOfItsObjective() {
        int[] classOf = new int[ROWS];
        SaeForward.Codes codes = codes(classOf);
        int[] all = java.util.stream.IntStream.range(0, ROWS).toArray();
        boolean[] y = label(classOf, 1);
        double l1 = L1LogisticProbe.L1, l2 = L1LogisticProbe.L2;
        LogisticModel m = L1LogisticProbe.fit(Rows.sparse(codes, all), y, l1, l2, 5000);
        // float64 reference gradient of the smooth part: (1/n)·Σ_i w_i·(σ(z_i) − y_i)·x_i (pos rows weighted by pw)
        int pos = 0;
        for (boolean v : y) {
            pos += v ? 1 : 0;
        }
        double pw = (double) (ROWS - pos) / pos;
        double[] grad = new double[LATENTS + 1];
        for (int r = 0; r < ROWS; r++) {
            double z = m.b();
            for (int p = codes.rowPtr()[r]; p < codes.rowPtr()[r + 1]; p++) {
                z += codes.val()[p] * m.w()[codes.idx()[p]];
            }
            double s = 1 / (1 + Math.exp(-z));
            double g = y[r] ? pw * (s - 1) : s;
            for (int p = codes.rowPtr()[r]; p < codes.rowPtr()[r + 1]; p++) {
                grad[codes.idx()[p]] += g * codes.val()[p] / ROWS;
            }
            grad[LATENTS] += g / ROWS;
        }
        int nonzero = 0;
        for (int j = 0; j < LATENTS; j++) {
            double gj = grad[j] + l2 * m.w()[j];
            if (m.w()[j] != 0) {
                nonzero++;
                assertEquals(-l1 * Math.signum(m.w()[j]), gj, 1e-6, "active latent " + j);
            } else {
                assertTrue(Math.abs(gj) <= l1 + 1e-6, "inactive latent " + j + ": |g| = " + Math.abs(gj));
            }
        }
        assertEquals(0, grad[LATENTS], 1e-6, "the bias is unpenalised");
        assertTrue(nonzero >= 1 && nonzero < LATENTS, "L1 keeps some latents and drops others: " + nonzero);
        assertEquals(3, KSparseRank.top(m.w()), "the class's own latent ranks first");
    }

    /** The index of the largest weight. */
    private static final class KSparseRank {
        static int top(double[] w) {
            int best = 0;
            for (int j = 1; j < w.length; j++) {
                if (w[j] > w[best]) {
                    best = j;
                }
            }
            return best;
        }
    }
}
