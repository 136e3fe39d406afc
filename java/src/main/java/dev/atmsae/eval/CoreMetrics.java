package dev.atmsae.eval;

import dev.atmsae.arch.InferenceSums;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reconstruction and sparsity metrics of an SAE over an evaluation set, accumulated batch by batch in float64:
 * <ul>
 *   <li>mse = mean over tokens of Σ_j (x̂_j − x_j)² (architectures.md's MSE term),</li>
 *   <li>fvu = Σ‖x − x̂‖² / Σ‖x − x̄‖² with x̄ the mean vector of the evaluated tokens; explained_variance = 1 − fvu,</li>
 *   <li>cosine_sim = mean over tokens of cos(x, x̂) (a zero vector counts as cosine 0),</li>
 *   <li>l0 / l1 = mean over tokens of the number of active latents / Σ_i f_i,</li>
 *   <li>dead_fraction = fraction of latents that never fired on the evaluated tokens.</li>
 * </ul>
 * The denominator of fvu is formed as Σ‖x‖² − ‖Σx‖²/N, all in float64.
 */
public final class CoreMetrics {
    private final int dIn;
    private final int dSae;
    private final double[] sumX;
    private final long[] fires;
    private double sumSqX;
    private double sumSqErr;
    private double sumCos;
    private double sumL0;
    private double sumL1;
    private long tokens;

    public CoreMetrics(int dIn, int dSae) {
        this.dIn = dIn;
        this.dSae = dSae;
        this.sumX = new double[dIn];
        this.fires = new long[dSae];
    }

    /** Adds {@code rows} tokens: inputs x and reconstructions x̂, both row-major [rows, dIn]. */
    public void addReconstruction(float[] x, float[] xhat, int rows) {
        if ((long) rows * dIn > Math.min(x.length, xhat.length)) {
            throw new IllegalArgumentException("batch of " + rows + " rows needs " + (long) rows * dIn + " values");
        }
        for (int b = 0; b < rows; b++) {
            int base = b * dIn;
            double err = 0, xx = 0, hh = 0, xh = 0;
            for (int j = 0; j < dIn; j++) {
                double xv = x[base + j];
                double hv = xhat[base + j];
                double e = hv - xv;
                err += e * e;
                xx += xv * xv;
                hh += hv * hv;
                xh += xv * hv;
                sumX[j] += xv;
            }
            sumSqErr += err;
            sumSqX += xx;
            sumCos += (xx > 0 && hh > 0) ? xh / Math.sqrt(xx * hh) : 0.0;
        }
        tokens += rows;
    }

    /** Adds the codes of the same tokens: dense f row-major [rows, dSae]. */
    public void addCodes(float[] f, int rows) {
        for (int b = 0; b < rows; b++) {
            int base = b * dSae;
            for (int i = 0; i < dSae; i++) {
                float v = f[base + i];
                if (v != 0f) {
                    sumL0 += 1;
                    sumL1 += Math.abs(v);
                    fires[i]++;
                }
            }
        }
    }

    /** Adds a batch evaluated on the engine ({@link InferenceSums}: reconstruction and code sums together). */
    public void addSums(InferenceSums s) {
        if (s.sumX().length != dIn || s.fires().length != dSae) {
            throw new IllegalArgumentException("sums for d_in=" + s.sumX().length + ", d_sae=" + s.fires().length);
        }
        sumSqErr += s.sqErr();
        sumSqX += s.sumSqX();
        sumCos += s.cosSum();
        sumL0 += s.l0Count();
        sumL1 += s.l1Sum();
        for (int j = 0; j < dIn; j++) {
            sumX[j] += s.sumX()[j];
        }
        for (int i = 0; i < dSae; i++) {
            fires[i] += s.fires()[i];
        }
        tokens += s.rows();
    }

    /** Adds code statistics computed elsewhere (e.g. on the engine): Σ L0, Σ L1 and per-latent fire counts. */
    public void addCodeSums(double l0Sum, double l1Sum, int[] fireCounts) {
        sumL0 += l0Sum;
        sumL1 += l1Sum;
        for (int i = 0; i < dSae; i++) {
            fires[i] += fireCounts[i];
        }
    }

    /** Per-latent fraction of evaluated tokens on which the latent was active. */
    public float[] firingFrequency() {
        float[] f = new float[dSae];
        for (int i = 0; i < dSae; i++) {
            f[i] = (float) ((double) fires[i] / Math.max(1, tokens));
        }
        return f;
    }

    public long tokens() {
        return tokens;
    }

    /** The metrics as an ordered map (the JSON that {@code atmsae eval} prints). */
    public Map<String, Object> result() {
        double n = Math.max(1, tokens);
        double sumXNormSq = 0;
        for (int j = 0; j < dIn; j++) {
            sumXNormSq += sumX[j] * sumX[j];
        }
        double totalVar = Math.max(0, sumSqX - sumXNormSq / n);
        int dead = 0;
        for (long f : fires) {
            dead += f > 0 ? 0 : 1;
        }
        double fvu = totalVar > 0 ? sumSqErr / totalVar : Double.NaN;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mse", sumSqErr / n);
        m.put("fvu", fvu);
        m.put("explained_variance", 1 - fvu);
        m.put("cosine_sim", sumCos / n);
        m.put("l0", sumL0 / n);
        m.put("l1", sumL1 / n);
        m.put("dead_fraction", (double) dead / dSae);
        m.put("dead_latents", dead);
        m.put("d_in", dIn);
        m.put("d_sae", dSae);
        m.put("tokens", tokens);
        return m;
    }
}
