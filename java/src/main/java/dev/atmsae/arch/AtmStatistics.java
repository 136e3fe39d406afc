package dev.atmsae.arch;

import dev.atmsae.core.StateValues;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * ATM's per-latent bookkeeping on the host in float64 (atm.md steps 3–6), O(n) per update: the EMAs A, Q, R of
 * the batch statistics (zero-initialised, bias-corrected by 1/(1 − β^t)), the importance
 * I_i = w_a·Â_i + w_q·Q̂_i + w_r·R̂_i with X̂_i = X_i/(mean_j X_j + 1e-8), the threshold θ = μ(I) + c·σ(I)
 * (population σ) and the mask probabilities p_i = clip(1 − exp(−r_t·(θ − I_i)/θ), 0, p_max).
 * When θ ≤ 0 (every statistic zero) nothing is masked.
 */
public final class AtmStatistics {
    private final double beta;
    private final double wA, wQ, wR, threshC, pMax;
    private final double[] emaA, emaQ, emaR, importance, p;
    private long updates;
    private double theta;

    public AtmStatistics(TrainConfig cfg, int width) {
        this.beta = cfg.atmEmaBeta();
        this.wA = cfg.atmWA();
        this.wQ = cfg.atmWQ();
        this.wR = cfg.atmWR();
        this.threshC = cfg.atmThreshC();
        this.pMax = cfg.atmPMax();
        this.emaA = new double[width];
        this.emaQ = new double[width];
        this.emaR = new double[width];
        this.importance = new double[width];
        this.p = new double[width];
    }

    /** Folds one step's statistics a, q, rho [n] into the EMAs and recomputes I, θ and p with mask rate r. */
    public void update(float[] a, float[] q, float[] rho, double rate) {
        updates++;
        for (int i = 0; i < emaA.length; i++) {
            emaA[i] = beta * emaA[i] + (1 - beta) * a[i];
            emaQ[i] = beta * emaQ[i] + (1 - beta) * q[i];
            emaR[i] = beta * emaR[i] + (1 - beta) * rho[i];
        }
        recompute(rate);
    }

    /** Recomputes I, θ and p from the current EMAs (also used when only the rate changed). */
    public void recompute(double rate) {
        int n = emaA.length;
        double correction = 1.0 / (1.0 - Math.pow(beta, updates));
        if (updates == 0) {
            java.util.Arrays.fill(importance, 0);
            java.util.Arrays.fill(p, 0);
            theta = 0;
            return;
        }
        double meanA = mean(emaA) * correction, meanQ = mean(emaQ) * correction, meanR = mean(emaR) * correction;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            importance[i] = wA * emaA[i] * correction / (meanA + 1e-8)
                    + wQ * emaQ[i] * correction / (meanQ + 1e-8)
                    + wR * emaR[i] * correction / (meanR + 1e-8);
            sum += importance[i];
        }
        double mu = sum / n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            var += (importance[i] - mu) * (importance[i] - mu);
        }
        theta = mu + threshC * Math.sqrt(var / n);
        for (int i = 0; i < n; i++) {
            double pi = theta > 0 ? 1.0 - Math.exp(-rate * (theta - importance[i]) / theta) : 0.0;
            p[i] = Math.max(0.0, Math.min(pMax, pi));
        }
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    public double theta() {
        return theta;
    }

    public long updates() {
        return updates;
    }

    /** The mask probabilities (live array; do not modify). */
    public double[] p() {
        return p;
    }

    public double[] importance() {
        return importance;
    }

    /** Bias-corrected EMA of statistic 0 = a, 1 = q, 2 = rho. */
    public double corrected(int which, int latent) {
        double[] s = which == 0 ? emaA : which == 1 ? emaQ : emaR;
        return updates == 0 ? 0 : s[latent] / (1.0 - Math.pow(beta, updates));
    }

    public int maskableCount() {
        int c = 0;
        for (double v : p) {
            if (v > 0) {
                c++;
            }
        }
        return c;
    }

    public double meanP() {
        return mean(p);
    }

    public void putState(Map<String, Object> out) {
        out.put("atm_updates", updates);
        out.put("atm_ema_a", emaA.clone());
        out.put("atm_ema_q", emaQ.clone());
        out.put("atm_ema_r", emaR.clone());
        out.put("atm_p", p.clone());
        out.put("atm_theta", theta);
    }

    public void restoreState(Map<String, Object> in) {
        updates = StateValues.l(in, "atm_updates");
        copy(StateValues.doubles(in, "atm_ema_a"), emaA);
        copy(StateValues.doubles(in, "atm_ema_q"), emaQ);
        copy(StateValues.doubles(in, "atm_ema_r"), emaR);
        copy(StateValues.doubles(in, "atm_p"), p);
        theta = StateValues.d(in, "atm_theta");
    }

    private static void copy(double[] src, double[] dst) {
        if (src.length != dst.length) {
            throw new IllegalArgumentException("ATM state has " + src.length + " latents, expected " + dst.length);
        }
        System.arraycopy(src, 0, dst, 0, src.length);
    }
}
