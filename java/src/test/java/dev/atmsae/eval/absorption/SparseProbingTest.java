package dev.atmsae.eval.absorption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.eval.SaeForward;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.Philox;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SparseProbingTest {
    @Test
    void meanDifferenceSelectsTheSignalAndSaeBeatsRawWhenTheSignalIsRotated() {
        // child class c lives along a direction spread over all raw dims (so raw k = 1 is weak), and the SAE has a
        // latent for exactly that direction (so SAE k = 1 is strong)
        int n = 1000, d = 10;
        double[] u = new double[d];
        for (int j = 0; j < d; j++) {
            u[j] = (j % 2 == 0 ? 1 : -1) / Math.sqrt(d);
        }
        float[] acts = new float[n * d];
        int[] parent = new int[n], child = new int[n], split = new int[n];
        for (int i = 0; i < n; i++) {
            boolean pos = Philox.uniform(8, Philox.STREAM_PROBE, i) < 0.3;
            parent[i] = pos ? 0 : -1;
            child[i] = pos ? 0 : -1;
            split[i] = i % 4 == 0 ? 1 : 0;
            for (int j = 0; j < d; j++) {
                acts[i * d + j] = (float) (0.5 * Philox.gaussian(8, Philox.STREAM_PROBE, 5000 + (long) i * d + j) + (pos ? 1.5 * u[j] : 0));
            }
        }
        ProbeSet set = new ProbeSet("rot", "custom", d, Map.of(), acts, List.of(new ProbeSet.ParentClass("P", List.of("c"))),
                parent, child, split, null, null);
        // SAE latent 3 = u; others = unit axes
        int m = d + 1;
        float[] wEnc = new float[d * m], wDec = new float[m * d];
        for (int j = 0; j < d; j++) {
            int latent = j < 3 ? j : j + 1;
            wEnc[j * m + latent] = 1;
            wDec[latent * d + j] = 1;
            wEnc[j * m + 3] = (float) u[j];
            wDec[3 * d + j] = (float) u[j];
        }
        SaeWeights sae = new SaeWeights("standard", d, m, wEnc, new float[m], wDec, new float[d], null, 0, Map.of());
        SparseProbing.Report r = SparseProbing.run(set, sae, new int[] {1, 10});
        assertEquals(1, r.classes().size());
        assertEquals("P/c", r.classes().get(0).name());
        assertEquals(3, r.classes().get(0).saeLatentsAtMaxK()[0]);
        assertTrue(r.meanSaeAccuracy()[0] > 0.9, "sae k=1 " + r.meanSaeAccuracy()[0]);
        assertTrue(r.meanRawAccuracy()[0] < 0.8, "raw k=1 " + r.meanRawAccuracy()[0]);
        assertTrue(r.meanRawAccuracy()[1] > 0.9, "raw k=10 " + r.meanRawAccuracy()[1]);
        // the mean-difference rule itself
        SaeForward.Codes codes = SaeForward.encode(sae, acts, n);
        int[] train = set.rowsOf(ProbeSet.TRAIN);
        boolean[] y = new boolean[n];
        for (int i = 0; i < n; i++) {
            y[i] = child[i] == 0;
        }
        double[] diff = SparseProbing.meanDifferenceSparse(codes, train, y);
        double pos = 0, neg = 0;
        int np = 0, nn = 0;
        for (int r2 : train) {
            double v = codes.get(r2, 3);
            if (y[r2]) {
                pos += v;
                np++;
            } else {
                neg += v;
                nn++;
            }
        }
        assertEquals(pos / np - neg / nn, diff[3], 1e-9);
        assertArrayEquals(new int[] {1, 10}, r.ks());
    }

    @Test
    void sparseAndDenseMeanDifferencesAgreeWithAFloat64Reference() {
        // 5 rows × 4 columns, two or fewer entries per row, none zero; rows 0, 2, 4 of train are positive.
        int[] rowPtr = {0, 2, 3, 5, 6, 8};
        int[] idx = {0, 3, 1, 2, 3, 0, 1, 2};
        float[] val = {1.5f, -0.25f, 2f, 0.75f, 3f, -1f, 0.5f, 4f};
        SaeForward.Codes codes = new SaeForward.Codes(5, 4, rowPtr, idx, val);
        float[] dense = new float[5 * 4];
        for (int r = 0; r < 5; r++) {
            for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
                dense[r * 4 + idx[p]] = val[p];
            }
        }
        int[] train = {0, 1, 2, 4};
        boolean[] label = {true, false, true, false, true};
        // positives rows 0, 2, 4; negative row 1 (row 3 is not in train)
        double[] expected = {
            1.5 / 3 - 0,
            0.5 / 3 - 2,
            (0.75 + 4) / 3 - 0,
            (-0.25 + 3) / 3 - 0};
        assertArrayEquals(expected, SparseProbing.meanDifferenceSparse(codes, train, label), 1e-12);
        assertArrayEquals(expected, SparseProbing.meanDifferenceDense(dense, 4, train, label), 1e-12);
    }
}
