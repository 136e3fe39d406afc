package dev.atmsae.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.atmsae.data.ArrayBatchStream;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.io.SaeWeights;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The eval path (SaeInference on the CPU engine + CoreMetrics) against a float64 host forward of the same SAE,
 * SAELens semantics, over a token count that ends in a partial batch. Tolerance: 1e-4 relative (float32 engine).
 */
class SaeEvaluatorTest {
    private static final int D = 6;
    private static final int N = 10;
    private static final int TOKENS = 37;
    private static final int BATCH = 16;

    @ParameterizedTest
    @ValueSource(strings = {"standard", "topk", "jumprelu"})
    void matchesFloat64Reference(String arch) {
        Random rnd = new Random(arch.hashCode());
        float[] wEnc = gauss(rnd, D * N, 0.6);
        float[] bEnc = gauss(rnd, N, 0.2);
        float[] wDec = gauss(rnd, N * D, 0.5);
        float[] bDec = gauss(rnd, D, 0.3);
        float[] threshold = null;
        if (arch.equals("jumprelu")) {
            threshold = new float[N];
            for (int i = 0; i < N; i++) {
                threshold[i] = 0.05f + 0.3f * rnd.nextFloat();
            }
        }
        int k = arch.equals("topk") ? 3 : 0;
        SaeWeights w = new SaeWeights(arch, D, N, wEnc, bEnc, wDec, bDec, threshold, k, Map.of());
        float[] x = gauss(rnd, 48 * D, 1.0);
        for (int i = 0; i < x.length; i++) {
            x[i] += 0.4f; // a mean so that fvu's centring matters
        }

        Map<String, Object> got;
        try (Engine engine = Engines.cpu(1, false)) {
            got = SaeEvaluator.evaluate(engine, w, ArrayBatchStream.sequential(x, D, BATCH), TOKENS).metrics().result();
        }

        double sse = 0, cos = 0, l0 = 0, l1 = 0;
        double[] mean = new double[D];
        boolean[] fired = new boolean[N];
        double[][] xhat = new double[TOKENS][D];
        for (int b = 0; b < TOKENS; b++) {
            double[] h = new double[N];
            for (int i = 0; i < N; i++) {
                h[i] = bEnc[i];
                for (int j = 0; j < D; j++) {
                    h[i] += (x[b * D + j] - (double) bDec[j]) * wEnc[j * N + i];
                }
            }
            double[] f = new double[N];
            for (int i = 0; i < N; i++) {
                f[i] = switch (arch) {
                    case "standard" -> Math.max(0, h[i]);
                    case "jumprelu" -> h[i] > threshold[i] ? Math.max(0, h[i]) : 0;
                    default -> rankOf(h, i) < k ? Math.max(0, h[i]) : 0;
                };
                if (f[i] > 0) {
                    l0++;
                    l1 += f[i];
                    fired[i] = true;
                }
            }
            double xx = 0, hh = 0, xh = 0;
            for (int j = 0; j < D; j++) {
                double v = bDec[j];
                for (int i = 0; i < N; i++) {
                    v += f[i] * wDec[i * D + j];
                }
                xhat[b][j] = v;
                double xv = x[b * D + j];
                sse += (v - xv) * (v - xv);
                xx += xv * xv;
                hh += v * v;
                xh += xv * v;
                mean[j] += xv / TOKENS;
            }
            cos += xh / Math.sqrt(xx * hh);
        }
        double sst = 0;
        for (int b = 0; b < TOKENS; b++) {
            for (int j = 0; j < D; j++) {
                double c = x[b * D + j] - mean[j];
                sst += c * c;
            }
        }
        int dead = 0;
        for (boolean f : fired) {
            dead += f ? 0 : 1;
        }
        assertEquals((long) TOKENS, got.get("tokens"));
        assertRel(sse / TOKENS, (double) got.get("mse"), "mse");
        assertRel(sse / sst, (double) got.get("fvu"), "fvu");
        assertRel(cos / TOKENS, (double) got.get("cosine_sim"), "cosine_sim");
        assertEquals(l0 / TOKENS, (double) got.get("l0"), 1e-12, "l0");
        assertRel(l1 / TOKENS, (double) got.get("l1"), "l1");
        assertEquals((double) dead / N, (double) got.get("dead_fraction"), 1e-12, "dead_fraction");
    }

    private static int rankOf(double[] h, int i) {
        int rank = 0;
        for (int j = 0; j < h.length; j++) {
            if (h[j] > h[i] || (h[j] == h[i] && j < i)) {
                rank++;
            }
        }
        return rank;
    }

    private static void assertRel(double want, double got, String what) {
        assertEquals(want, got, 1e-4 * Math.max(1, Math.abs(want)), what);
    }

    private static float[] gauss(Random rnd, int n, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (sd * rnd.nextGaussian());
        }
        return v;
    }
}
