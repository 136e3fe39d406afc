package dev.atmsae.arch;

import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/** Float64 reference of ATM steps 2–6 (atm.md), written from the spec independently of {@link AtmStatistics}. */
final class AtmReference {
    final double[] emaA, emaQ, emaR, p;
    long updates;
    double theta;
    final TrainConfig cfg;

    AtmReference(int n, TrainConfig cfg) {
        emaA = new double[n];
        emaQ = new double[n];
        emaR = new double[n];
        p = new double[n];
        this.cfg = cfg;
    }

    /** Random positive EMAs as if {@code updates} steps had passed. */
    static AtmReference preset(int n, long updates, TrainConfig cfg) {
        AtmReference r = new AtmReference(n, cfg);
        r.updates = updates;
        for (int i = 0; i < n; i++) {
            r.emaA[i] = 0.3 * Philox.uniform(11, 103, 3L * i);
            r.emaQ[i] = 0.5 * Philox.uniform(11, 103, 3L * i + 1);
            r.emaR[i] = 0.8 * Philox.uniform(11, 103, 3L * i + 2);
        }
        return r;
    }

    void putState(Map<String, Object> s) {
        s.put("atm_updates", updates);
        s.put("atm_ema_a", emaA.clone());
        s.put("atm_ema_q", emaQ.clone());
        s.put("atm_ema_r", emaR.clone());
        s.put("atm_p", p.clone());
        s.put("atm_theta", theta);
    }

    /** Batch statistics of the unmasked code f [B·n] and e = x − x̂ [B·d], then EMA, importance, θ, p. */
    void update(double[] f, double[] e, double[] wDec, int rows, int d, double rate) {
        int n = emaA.length;
        double beta = cfg.atmEmaBeta();
        updates++;
        for (int i = 0; i < n; i++) {
            double a = 0, q = 0, rho = 0, dn = 0;
            for (int j = 0; j < d; j++) {
                dn += wDec[i * d + j] * wDec[i * d + j];
            }
            for (int b = 0; b < rows; b++) {
                double fv = f[b * n + i];
                double ed = 0;
                for (int j = 0; j < d; j++) {
                    ed += e[b * d + j] * wDec[i * d + j];
                }
                a += fv;
                q += fv > 0 ? 1 : 0;
                rho += fv * fv * dn + 2 * fv * ed;
            }
            emaA[i] = beta * emaA[i] + (1 - beta) * a / rows;
            emaQ[i] = beta * emaQ[i] + (1 - beta) * q / rows;
            emaR[i] = beta * emaR[i] + (1 - beta) * Math.max(0, rho / rows);
        }
        recompute(rate);
    }

    /** Importance, θ and p from the current EMAs. */
    void recompute(double rate) {
        int n = emaA.length;
        double beta = cfg.atmEmaBeta();
        double corr = 1 - Math.pow(beta, updates);
        double[] importance = new double[n];
        double[][] stats = {emaA, emaQ, emaR};
        double[] w = {cfg.atmWA(), cfg.atmWQ(), cfg.atmWR()};
        for (int s = 0; s < 3; s++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += stats[s][i] / corr;
            }
            mean /= n;
            for (int i = 0; i < n; i++) {
                importance[i] += w[s] * (stats[s][i] / corr) / (mean + 1e-8);
            }
        }
        double mu = 0, var = 0;
        for (double v : importance) {
            mu += v;
        }
        mu /= n;
        for (double v : importance) {
            var += (v - mu) * (v - mu);
        }
        theta = mu + cfg.atmThreshC() * Math.sqrt(var / n);
        for (int i = 0; i < n; i++) {
            p[i] = Math.min(cfg.atmPMax(), Math.max(0, 1 - Math.exp(-rate * (theta - importance[i]) / theta)));
        }
    }

    int maskable() {
        int c = 0;
        for (double v : p) {
            if (v > 0) {
                c++;
            }
        }
        return c;
    }
}
