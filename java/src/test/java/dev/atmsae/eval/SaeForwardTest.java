package dev.atmsae.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.Philox;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SaeForwardTest {
    static float[] gaussian(long seed, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * Philox.gaussian(seed, Philox.STREAM_INIT_DECODER, i));
        }
        return v;
    }

    static SaeWeights random(String arch, int d, int n, int k) {
        float[] theta = null;
        if (arch.equals("jumprelu")) {
            theta = new float[n];
            for (int j = 0; j < n; j++) {
                theta[j] = (float) (0.3 * Philox.uniform(5, Philox.STREAM_INIT_DECODER, j));
            }
        }
        return new SaeWeights(arch, d, n, gaussian(1, d * n, 0.4), gaussian(2, n, 0.2), gaussian(3, n * d, 0.3),
                gaussian(4, d, 0.1), theta, k, Map.of());
    }

    /** Straightforward float64 reference written from saelens-format.md. */
    static double[] reference(SaeWeights s, float[] x, int row) {
        int d = s.dIn(), n = s.dSae();
        double[] h = new double[n];
        for (int j = 0; j < n; j++) {
            double acc = s.bEnc()[j];
            for (int i = 0; i < d; i++) {
                acc += ((double) x[row * d + i] - s.bDec()[i]) * s.wEnc()[i * n + j];
            }
            h[j] = acc;
        }
        double[] f = new double[n];
        for (int j = 0; j < n; j++) {
            switch (s.architecture()) {
                case "standard" -> f[j] = Math.max(0, h[j]);
                case "jumprelu" -> f[j] = h[j] > s.threshold()[j] ? Math.max(0, h[j]) : 0;
                default -> {
                    int larger = 0;
                    for (int q = 0; q < n; q++) {
                        larger += h[q] > h[j] ? 1 : 0;
                    }
                    f[j] = larger < s.k() ? Math.max(0, h[j]) : 0;
                }
            }
        }
        return f;
    }

    @Test
    void encodeMatchesReferenceForEveryArchitecture() {
        int d = 12, n = 20, rows = 30;
        float[] x = gaussian(9, rows * d, 1.0);
        for (String arch : List.of("standard", "topk", "jumprelu")) {
            SaeWeights s = random(arch, d, n, arch.equals("topk") ? 4 : 0);
            SaeForward.Codes codes = SaeForward.encode(s, x, rows);
            for (int r = 0; r < rows; r++) {
                double[] expect = reference(s, x, r);
                for (int j = 0; j < n; j++) {
                    assertEquals(expect[j], codes.get(r, j), 1e-5 * (1 + Math.abs(expect[j])), arch + " row " + r + " latent " + j);
                }
            }
        }
    }

    @Test
    void quickselectAgreesWithSortingIncludingTies() {
        for (int trial = 0; trial < 50; trial++) {
            int n = 5 + trial;
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = Math.floor(4 * Philox.gaussian(trial, Philox.STREAM_TIES, i)); // many ties
            }
            double[] sorted = v.clone();
            java.util.Arrays.sort(sorted);
            for (int k = 1; k <= n; k += 3) {
                assertEquals(sorted[n - k], SaeForward.kthLargest(v.clone(), k), 0.0);
            }
        }
        // top-k keeps exactly k entries when ties straddle the cut, preferring lower indices
        SaeWeights s = new SaeWeights("topk", 1, 5, new float[] {1, 2, 2, 2, 0.5f}, new float[5], new float[5], new float[1],
                null, 2, Map.of());
        double[] f = SaeForward.encodeRow(s, new float[] {1}, 0);
        assertEquals(List.of(0.0, 2.0, 2.0, 0.0, 0.0), java.util.Arrays.stream(f).boxed().toList());
    }

    @Test
    void absorptionIsUnchangedByFoldingDecoderNorms() {
        int d = 8, n = 16, rows = 400;
        SaeWeights s = random("standard", d, n, 0);
        float[] x = gaussian(12, rows * d, 1.0);
        // fold: d_i ← d_i/‖d_i‖, W_enc[:, i] and b_enc_i ← ·‖d_i‖
        double[] norms = SaeForward.decoderNorms(s);
        float[] wEnc = s.wEnc().clone(), bEnc = s.bEnc().clone(), wDec = s.wDec().clone();
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < d; i++) {
                wEnc[i * n + j] *= (float) norms[j];
                wDec[j * d + i] /= (float) norms[j];
            }
            bEnc[j] *= (float) norms[j];
        }
        SaeWeights folded = new SaeWeights("standard", d, n, wEnc, bEnc, wDec, s.bDec(), null, 0, Map.of());
        int[] parent = new int[rows], child = new int[rows], split = new int[rows];
        for (int r = 0; r < rows; r++) {
            parent[r] = x[r * d] > 0.3 ? 0 : -1;
            child[r] = -1;
            split[r] = r % 5 == 0 ? 1 : 0;
        }
        ProbeSet set = new ProbeSet("fold", "custom", d, Map.of(), x, List.of(new ProbeSet.ParentClass("P", List.of())),
                parent, child, split, null, null);
        AbsorptionOptions opts = AbsorptionOptions.defaults().withMinProbeF1(0.0);
        AbsorptionReport a = AbsorptionEval.run(set, s, opts), b = AbsorptionEval.run(set, folded, opts);
        assertEquals(a.classes().get(0).nScored(), b.classes().get(0).nScored());
        assertEquals(a.meanAbsorptionFraction(), b.meanAbsorptionFraction(), 1e-4);
        assertEquals(a.meanAbsorptionFractionLegacy(), b.meanAbsorptionFractionLegacy(), 1e-4);
        assertEquals(a.meanFullAbsorption(), b.meanFullAbsorption(), 1e-9);
    }
}
