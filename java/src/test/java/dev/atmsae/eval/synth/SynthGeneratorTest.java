package dev.atmsae.eval.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.core.Philox;
import org.junit.jupiter.api.Test;

class SynthGeneratorTest {
    private static final SynthConfig CFG = new SynthConfig(0, 0, 32, 3, 4, 5, 0.2, 0.5, 0.1, 2.0, 0.3, 0.0, true, 5, 1000);

    @Test
    void firingRatesHierarchyAndExclusivity() {
        SynthGenerator gen = new SynthGenerator(CFG);
        int n = 20_000;
        SynthGenerator.Batch b = gen.generate(0, n);
        int[] fires = new int[CFG.features()];
        int rootWithChild = 0;
        for (int r = 0; r < n; r++) {
            int[] childrenOn = new int[CFG.trees()];
            boolean[] rootOn = new boolean[CFG.trees()];
            for (int p = b.rowPtr()[r]; p < b.rowPtr()[r + 1]; p++) {
                int f = b.feature()[p];
                fires[f]++;
                assertTrue(b.value()[p] > 0);
                if (f < CFG.independentFeature(0)) {
                    int t = f / (1 + CFG.children());
                    if (f == CFG.root(t)) {
                        rootOn[t] = true;
                    } else {
                        childrenOn[t]++;
                    }
                }
            }
            for (int t = 0; t < CFG.trees(); t++) {
                assertTrue(childrenOn[t] <= 1, "siblings must be exclusive");
                assertTrue(childrenOn[t] == 0 || rootOn[t], "a child fires only with its root");
                rootWithChild += childrenOn[t];
            }
        }
        double sigmaRoot = Math.sqrt(0.2 * 0.8 / n);
        for (int t = 0; t < CFG.trees(); t++) {
            assertEquals(0.2, fires[CFG.root(t)] / (double) n, 4 * sigmaRoot);
            for (int c = 0; c < CFG.children(); c++) {
                assertEquals(0.2 * 0.5 / 4, fires[CFG.child(t, c)] / (double) n, 4 * Math.sqrt(0.025 / n));
            }
        }
        int rootFires = 0;
        for (int t = 0; t < CFG.trees(); t++) {
            rootFires += fires[CFG.root(t)];
        }
        assertEquals(0.5, rootWithChild / (double) rootFires, 0.03);
        for (int m = 0; m < CFG.independent(); m++) {
            assertEquals(0.1, fires[CFG.independentFeature(m)] / (double) n, 4 * Math.sqrt(0.09 / n));
        }
    }

    @Test
    void activationsAreTheSumOfTrueFeaturesAndDirectionsAreOrthonormal() {
        SynthGenerator gen = new SynthGenerator(CFG);
        float[] dirs = gen.directions();
        int d = CFG.d();
        for (int a = 0; a < CFG.features(); a++) {
            for (int c = 0; c <= a; c++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += dirs[a * d + i] * dirs[c * d + i];
                }
                assertEquals(a == c ? 1.0 : 0.0, dot, 1e-5);
            }
        }
        SynthGenerator.Batch b = gen.generate(0, 50);
        for (int r = 0; r < 50; r++) {
            for (int i = 0; i < d; i++) {
                double expect = 0;
                for (int p = b.rowPtr()[r]; p < b.rowPtr()[r + 1]; p++) {
                    expect += b.value()[p] * dirs[b.feature()[p] * d + i];
                }
                assertEquals(expect, b.x()[r * d + i], 1e-5);
            }
        }
    }

    @Test
    void anySampleRangeRegeneratesExactlyAndNoiseHasItsStd() {
        SynthConfig noisy = new SynthConfig(0, 0, 32, 3, 4, 5, 0.2, 0.5, 0.1, 2.0, 0.3, 0.5, false, 9, 1000);
        SynthGenerator gen = new SynthGenerator(noisy);
        SynthGenerator.Batch whole = gen.generate(0, 300);
        SynthGenerator.Batch part = gen.generate(100, 50);
        assertArrayEquals(java.util.Arrays.copyOfRange(whole.x(), 100 * 32, 150 * 32), part.x());
        // with no feature firing (rates 0) x is pure noise of std 0.5
        SynthGenerator quiet = new SynthGenerator(new SynthConfig(0, 0, 32, 1, 1, 1, 0, 0, 0, 1, 0, 0.5, false, 3, 1000));
        SynthGenerator.Batch q = quiet.generate(0, 2000);
        double ss = 0;
        for (float v : q.x()) {
            ss += v * v;
        }
        assertEquals(0.5, Math.sqrt(ss / q.x().length), 0.01);
        assertTrue(Philox.STREAM_SYNTH == 4);
    }

    @Test
    void hungarianMatchesBruteForce() {
        int n = 4, m = 6;
        for (int trial = 0; trial < 20; trial++) {
            double[] cost = new double[n * m];
            for (int i = 0; i < cost.length; i++) {
                cost[i] = Philox.uniform(trial, Philox.STREAM_PROBE, i);
            }
            int[] match = Hungarian.assign(cost, n, m);
            double got = 0;
            for (int r = 0; r < n; r++) {
                got += cost[r * m + match[r]];
            }
            assertEquals(bruteForce(cost, n, m, 0, new boolean[m]), got, 1e-12);
        }
    }

    private static double bruteForce(double[] cost, int n, int m, int row, boolean[] used) {
        if (row == n) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        for (int c = 0; c < m; c++) {
            if (!used[c]) {
                used[c] = true;
                best = Math.min(best, cost[row * m + c] + bruteForce(cost, n, m, row + 1, used));
                used[c] = false;
            }
        }
        return best;
    }
}
