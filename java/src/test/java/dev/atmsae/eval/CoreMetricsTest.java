package dev.atmsae.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** CoreMetrics against a direct two-pass float64 computation of every metric on small random data. */
class CoreMetricsTest {
    private static final double TOL = 1e-9;

    @Test
    void matchesTwoPassFloat64ReferenceAcrossBatches() {
        int d = 7, n = 11, tokens = 53;
        Random rnd = new Random(42);
        float[] x = new float[tokens * d];
        float[] xhat = new float[tokens * d];
        float[] f = new float[tokens * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() + 0.7); // nonzero mean so x̄ matters
            xhat[i] = x[i] + (float) (0.3 * rnd.nextGaussian());
        }
        for (int i = 0; i < f.length; i++) {
            int latent = i % n;
            // latents 9 and 10 never fire: dead fraction 2/11
            f[i] = latent < 9 && rnd.nextDouble() < 0.3 ? (float) rnd.nextDouble() * 2 + 0.01f : 0f;
        }

        CoreMetrics m = new CoreMetrics(d, n);
        int[] batchRows = {20, 13, 20};
        int start = 0;
        for (int rows : batchRows) {
            m.addReconstruction(java.util.Arrays.copyOfRange(x, start * d, (start + rows) * d),
                    java.util.Arrays.copyOfRange(xhat, start * d, (start + rows) * d), rows);
            m.addCodes(java.util.Arrays.copyOfRange(f, start * n, (start + rows) * n), rows);
            start += rows;
        }
        Map<String, Object> r = m.result();

        // reference: two passes, float64
        double[] mean = new double[d];
        for (int b = 0; b < tokens; b++) {
            for (int j = 0; j < d; j++) {
                mean[j] += x[b * d + j] / (double) tokens;
            }
        }
        double sse = 0, sst = 0, cos = 0, l0 = 0, l1 = 0;
        boolean[] fired = new boolean[n];
        for (int b = 0; b < tokens; b++) {
            double xx = 0, hh = 0, xh = 0;
            for (int j = 0; j < d; j++) {
                double xv = x[b * d + j], hv = xhat[b * d + j];
                sse += (hv - xv) * (hv - xv);
                sst += (xv - mean[j]) * (xv - mean[j]);
                xx += xv * xv;
                hh += hv * hv;
                xh += xv * hv;
            }
            cos += xh / Math.sqrt(xx * hh);
            for (int i = 0; i < n; i++) {
                float v = f[b * n + i];
                if (v > 0) {
                    l0++;
                    l1 += v;
                    fired[i] = true;
                }
            }
        }
        int dead = 0;
        for (boolean b : fired) {
            dead += b ? 0 : 1;
        }
        assertEquals(2, dead);
        assertEquals(sse / tokens, (double) r.get("mse"), TOL);
        assertEquals(sse / sst, (double) r.get("fvu"), TOL);
        assertEquals(1 - sse / sst, (double) r.get("explained_variance"), TOL);
        assertEquals(cos / tokens, (double) r.get("cosine_sim"), TOL);
        assertEquals(l0 / tokens, (double) r.get("l0"), TOL);
        assertEquals(l1 / tokens, (double) r.get("l1"), TOL);
        assertEquals(dead / (double) n, (double) r.get("dead_fraction"), TOL);
        assertEquals((long) tokens, r.get("tokens"));
    }

    @Test
    void perfectReconstructionHasZeroFvuAndUnitCosine() {
        int d = 4, n = 3, rows = 5;
        Random rnd = new Random(7);
        float[] x = new float[rows * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() + 0.1f;
        }
        CoreMetrics m = new CoreMetrics(d, n);
        m.addReconstruction(x, x.clone(), rows);
        m.addCodeSums(10, 4.5, new int[] {3, 0, 1});
        Map<String, Object> r = m.result();
        assertEquals(0.0, (double) r.get("fvu"), 0.0);
        assertEquals(1.0, (double) r.get("cosine_sim"), 1e-12);
        assertEquals(2.0, (double) r.get("l0"), 1e-12);
        assertEquals(0.9, (double) r.get("l1"), 1e-12);
        assertEquals(1.0 / 3, (double) r.get("dead_fraction"), 1e-12);
    }
}
