package dev.atmsae.eval.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.core.Philox;
import org.junit.jupiter.api.Test;

class LogisticRegressionTest {
    @Test
    void matchesHandSolvedOneDimensionalCase() {
        // x = +1 (y = 1), x = −1 (y = 0), balanced weights 1, l2 = 1/n = 1/2 (sklearn C = 1).
        // By symmetry b = 0; sklearn objective Σ log(1+e^{-w}) ·2 + w²/2 → stationarity w = 2·σ(−w).
        // Solve that scalar equation by bisection as the independent reference.
        double lo = 0, hi = 2;
        for (int i = 0; i < 200; i++) {
            double mid = 0.5 * (lo + hi);
            if (mid - 2 * LogisticRegression.sigmoid(-mid) > 0) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        LogisticModel m = LogisticRegression.fitBalanced(Rows.dense(new double[] {1, -1}, 2, 1),
                new boolean[] {true, false}, LogisticRegression.L2_SKLEARN_C1, 200);
        assertEquals(lo, m.w()[0], 1e-6);
        assertEquals(0.0, m.b(), 1e-6);
        assertTrue(lo > 0.6 && lo < 0.75, "reference w = " + lo);
    }

    @Test
    void balancedWeightsMatchSklearn() {
        double[] s = LogisticRegression.balancedWeights(new boolean[] {true, false, false, false});
        assertEquals(2.0, s[0], 1e-12); // n / (2·n_pos) = 4 / 2
        assertEquals(4.0 / 6.0, s[1], 1e-12);
    }

    @Test
    void separatesALinearlySeparableSetAndZeroesTheGradient() {
        int n = 200, d = 5;
        double[] x = new double[n * d];
        boolean[] y = new boolean[n];
        double[] truth = {1.5, -2, 0.5, 0, 1};
        for (int i = 0; i < n; i++) {
            double z = 0.3;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = Philox.gaussian(7, Philox.STREAM_PROBE, (long) i * d + j);
                z += truth[j] * x[i * d + j];
            }
            y[i] = z > 0;
            if (Math.abs(z) < 0.3) { // margin so the set is clearly separable
                for (int j = 0; j < d; j++) {
                    x[i * d + j] += (y[i] ? 0.4 : -0.4) * truth[j];
                }
            }
        }
        Rows rows = Rows.dense(x, n, d);
        double l2 = 1e-3;
        LogisticModel m = LogisticRegression.fitBalanced(rows, y, l2, 1000);
        BinaryMetrics metrics = BinaryMetrics.of(m.logits(rows), y, 0);
        assertEquals(1.0, metrics.accuracy(), 1e-12);
        // stationarity of the objective: numeric gradient by central differences ≈ 0
        LogisticRegression.Objective obj = new LogisticRegression.Objective(rows, y, LogisticRegression.balancedWeights(y), l2);
        double[] theta = new double[d + 1];
        System.arraycopy(m.w(), 0, theta, 0, d);
        theta[d] = m.b();
        double[] grad = new double[d + 1];
        obj.valueAndGradient(theta, grad);
        for (double g : grad) {
            assertEquals(0.0, g, 1e-5);
        }
        // and the analytic gradient agrees with finite differences at a non-optimal point
        double[] probe = {0.3, -0.2, 0.1, 0.4, -0.5, 0.2};
        double[] g0 = new double[d + 1];
        obj.valueAndGradient(probe, g0);
        for (int j = 0; j <= d; j++) {
            double[] plus = probe.clone(), minus = probe.clone();
            plus[j] += 1e-6;
            minus[j] -= 1e-6;
            double numeric = (obj.valueAndGradient(plus, new double[d + 1]) - obj.valueAndGradient(minus, new double[d + 1])) / 2e-6;
            assertEquals(numeric, g0[j], 1e-6);
        }
    }

    @Test
    void foldedZeroRowsGiveTheRowByRowObjectiveAndGradient() {
        // Mostly-zero rows, as k-sparse probes on SAE latents see them: the objective folds all-zero rows per label.
        int n = 500, d = 4;
        double[] x = new double[n * d];
        boolean[] y = new boolean[n];
        int zeroRows = 0;
        for (int i = 0; i < n; i++) {
            y[i] = Philox.uniform(11, Philox.STREAM_PROBE, i) < 0.2;
            boolean active = Philox.uniform(11, Philox.STREAM_PROBE, 10_000 + i) < 0.15;
            zeroRows += active ? 0 : 1;
            for (int j = 0; j < d && active; j++) {
                x[i * d + j] = Math.max(0, Philox.gaussian(11, Philox.STREAM_PROBE, 20_000 + (long) i * d + j));
            }
        }
        assertTrue(zeroRows > n / 2, "most rows must be zero for the fold to matter: " + zeroRows);
        double[] s = LogisticRegression.balancedWeights(y);
        double l2 = 1.0 / n;
        LogisticRegression.Objective obj = new LogisticRegression.Objective(Rows.dense(x, n, d), y, s, l2);
        double[] theta = {0.7, -1.1, 0.4, 2.0, -0.6};
        double[] grad = new double[d + 1];
        double value = obj.valueAndGradient(theta, grad);
        // row-by-row float64 reference of the class comment's objective
        double refValue = 0;
        double[] refGrad = new double[d + 1];
        for (int i = 0; i < n; i++) {
            double z = theta[d];
            for (int j = 0; j < d; j++) {
                z += theta[j] * x[i * d + j];
            }
            double p = 1 / (1 + Math.exp(-z));
            refValue += s[i] * (Math.log1p(Math.exp(z)) - (y[i] ? z : 0)) / n;
            for (int j = 0; j < d; j++) {
                refGrad[j] += s[i] * (p - (y[i] ? 1 : 0)) * x[i * d + j] / n;
            }
            refGrad[d] += s[i] * (p - (y[i] ? 1 : 0)) / n;
        }
        for (int j = 0; j < d; j++) {
            refValue += 0.5 * l2 * theta[j] * theta[j];
            refGrad[j] += l2 * theta[j];
        }
        assertEquals(refValue, value, 1e-12 * Math.abs(refValue));
        for (int j = 0; j <= d; j++) {
            assertEquals(refGrad[j], grad[j], 1e-12, "gradient " + j);
        }
    }

    @Test
    void l1ProbeRanksTheInformativeFeatureFirstAndZeroesNoise() {
        int n = 300, d = 8;
        double[] x = new double[n * d];
        boolean[] y = new boolean[n];
        for (int i = 0; i < n; i++) {
            y[i] = Philox.uniform(3, Philox.STREAM_PROBE, i) < 0.3;
            for (int j = 0; j < d; j++) {
                double noise = Math.abs(Philox.gaussian(3, Philox.STREAM_PROBE, 1000 + (long) i * d + j));
                x[i * d + j] = noise * 0.2;
            }
            x[i * d + 5] += y[i] ? 2.0 : 0.0; // latent 5 fires for the class
        }
        LogisticModel m = L1LogisticProbe.fit(Rows.dense(x, n, d), y, L1LogisticProbe.L1, L1LogisticProbe.L2, 500);
        int best = 0;
        for (int j = 1; j < d; j++) {
            if (m.w()[j] > m.w()[best]) {
                best = j;
            }
        }
        assertEquals(5, best);
        int zeros = 0;
        for (int j = 0; j < d; j++) {
            zeros += m.w()[j] == 0 ? 1 : 0;
        }
        assertTrue(zeros >= 4, "L1 should zero most noise weights, zeros = " + zeros);
    }

    @Test
    void bestThresholdMaximisesTrainF1() {
        double[] scores = {-2, -1, 0.5, 1, 2, 3};
        boolean[] y = {false, false, false, true, true, true};
        double thr = BinaryMetrics.bestF1Threshold(scores, y);
        assertEquals(1.0, BinaryMetrics.of(scores, y, thr).f1(), 1e-12);
        assertTrue(thr > 0.5 && thr < 1);
    }

    /** Ground-truth probes are fitted in lockstep: each class must get exactly the model of its own fit. */
    @Test
    void lockstepFitsOnSharedFloatRowsGiveEachClassItsOwnBits() {
        int total = 260, d = 41;
        float[] acts = new float[total * d];
        int[] cls = new int[total];
        for (int i = 0; i < total; i++) {
            cls[i] = (int) (Philox.uniform(12, Philox.STREAM_PROBE, i) * 4);
            for (int j = 0; j < d; j++) {
                acts[i * d + j] = (float) (Philox.gaussian(12, Philox.STREAM_PROBE, 10_000 + (long) i * d + j)
                        + (j == cls[i] * 3 ? 1.5 : 0));
            }
        }
        int[] sel = java.util.stream.IntStream.range(0, total).filter(i -> i % 5 != 0).toArray(); // a train split
        Rows x = Rows.floats(acts, d, sel);
        java.util.List<boolean[]> labels = new java.util.ArrayList<>();
        for (int c = 0; c < 4; c++) {
            boolean[] y = new boolean[sel.length];
            for (int t = 0; t < sel.length; t++) {
                y[t] = cls[sel[t]] == c;
            }
            labels.add(y);
        }
        labels.add(new boolean[sel.length]); // degenerate: no positives
        for (double l2 : new double[] {1e-4, LogisticRegression.L2_SKLEARN_C1}) {
            java.util.List<LogisticModel> together = LogisticRegression.fitBalancedAll(x, labels, l2, 500);
            for (int c = 0; c < labels.size(); c++) {
                LogisticModel alone = LogisticRegression.fitBalanced(x, labels.get(c), l2, 500);
                org.junit.jupiter.api.Assertions.assertArrayEquals(alone.w(), together.get(c).w(), 0.0, "class " + c);
                assertEquals(Double.doubleToRawLongBits(alone.b()), Double.doubleToRawLongBits(together.get(c).b()));
            }
            assertTrue(together.get(2).w()[6] > 0.5, "class 2's own feature carries its probe");
        }
    }
}
