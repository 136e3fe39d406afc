package dev.atmsae.arch;

import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.Philox;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SaeInference against a float64 host evaluation of the SAELens semantics on random weights (not from training),
 * an odd batch size and two batches of different sizes (workspace reallocation, {@link InferenceSums#plus}).
 * Tolerance: 1e-5 relative on sums (cosine sum: 1e-5 absolute per row), codes 1e-5 relative to the largest code.
 */
class SaeInferenceTest {
    static final int D = 8, N = 16;

    static SaeWeights weights(String arch) {
        float[] wEnc = new float[D * N], wDec = new float[N * D], bEnc = new float[N], bDec = new float[D];
        float[] thr = arch.equals("jumprelu") ? new float[N] : null;
        long i = 0;
        for (int t = 0; t < D * N; t++) {
            wEnc[t] = (float) Philox.gaussian(21, 100, i++);
            wDec[t] = (float) (0.5 * Philox.gaussian(21, 100, i++));
        }
        for (int t = 0; t < N; t++) {
            bEnc[t] = (float) (0.2 * Philox.gaussian(21, 100, i++));
            if (thr != null) {
                thr[t] = t % 5 == 0 ? 0f : (float) (1.5 * Philox.uniform(21, 100, i++));
            }
        }
        for (int t = 0; t < D; t++) {
            bDec[t] = (float) (0.3 * Philox.gaussian(21, 100, i++));
        }
        return new SaeWeights(arch, D, N, wEnc, bEnc, wDec, bDec, thr, arch.equals("topk") ? 4 : 0, Map.of());
    }

    /** Float64 codes for raw rows x (SAELens semantics; TopK ties by lower index). */
    static double[] codes(SaeWeights w, float[] x, int rows) {
        double[] f = new double[rows * N];
        for (int b = 0; b < rows; b++) {
            double[] h = new double[N];
            for (int i = 0; i < N; i++) {
                double s = w.bEnc()[i];
                for (int j = 0; j < D; j++) {
                    s += ((double) x[b * D + j] - w.bDec()[j]) * w.wEnc()[j * N + i];
                }
                h[i] = s;
            }
            for (int i = 0; i < N; i++) {
                double v = Math.max(h[i], 0);
                if (w.architecture().equals("jumprelu") && !(h[i] > w.threshold()[i])) {
                    v = 0;
                }
                if (w.architecture().equals("topk")) {
                    int above = 0;
                    for (int o = 0; o < N; o++) {
                        if (h[o] > h[i] || (h[o] == h[i] && o < i)) {
                            above++;
                        }
                    }
                    if (above >= w.k()) {
                        v = 0;
                    }
                }
                f[b * N + i] = v;
            }
        }
        return f;
    }

    @ParameterizedTest
    @ValueSource(strings = {"standard", "topk", "jumprelu"})
    void sumsAndCodesMatchAFloat64Evaluation(String arch) {
        SaeWeights w = weights(arch);
        try (CpuEngine e = new CpuEngine(1, false); SaeInference inf = new SaeInference(e, w)) {
            InferenceSums total = null;
            double sqErr = 0, sumSqX = 0, sumSqXhat = 0, cos = 0, l1 = 0;
            long l0 = 0;
            long[] fires = new long[N];
            double[] sumX = new double[D];
            for (int rows : new int[]{5, 3}) {
                float[] x = ExportLikeData.rows(rows, D, rows);
                double[] f = codes(w, x, rows);
                try (Tensor xt = e.allocF32(rows, D)) {
                    e.upload(xt, x);
                    InferenceSums s = inf.run(xt);
                    total = total == null ? s : total.plus(s);
                    float[] got = inf.codesToHost();
                    double maxCode = 0;
                    for (double v : f) {
                        maxCode = Math.max(maxCode, v);
                    }
                    for (int t = 0; t < f.length; t++) {
                        assertEquals(f[t], got[t], 1e-5 * maxCode, arch + " code " + t);
                    }
                }
                for (int b = 0; b < rows; b++) {
                    double xx = 0, hh = 0, xh = 0;
                    for (int j = 0; j < D; j++) {
                        double xhat = w.bDec()[j];
                        for (int i = 0; i < N; i++) {
                            xhat += f[b * N + i] * w.wDec()[i * D + j];
                        }
                        double xv = x[b * D + j];
                        sqErr += (xhat - xv) * (xhat - xv);
                        xx += xv * xv;
                        hh += xhat * xhat;
                        xh += xv * xhat;
                        sumX[j] += xv;
                    }
                    sumSqX += xx;
                    sumSqXhat += hh;
                    cos += xh / Math.sqrt(xx * hh);
                    for (int i = 0; i < N; i++) {
                        double v = f[b * N + i];
                        l1 += v;
                        if (v > 0) {
                            l0++;
                            fires[i]++;
                        }
                    }
                }
            }
            assertEquals(8, total.rows());
            assertEquals(sqErr, total.sqErr(), 1e-5 * sqErr);
            assertEquals(sumSqX, total.sumSqX(), 1e-5 * sumSqX);
            assertEquals(sumSqXhat, total.sumSqXhat(), 1e-5 * sumSqXhat);
            assertEquals(cos, total.cosSum(), 1e-5 * total.rows()); // polarization identity: absolute error per row
            assertEquals(l1, total.l1Sum(), 1e-5 * l1);
            assertEquals(l0, total.l0Count());
            assertArrayEquals(fires, total.fires());
            assertArrayEquals(sumX, total.sumX(), 1e-5);
        }
    }
}
