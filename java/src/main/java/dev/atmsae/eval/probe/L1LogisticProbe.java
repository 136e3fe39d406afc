package dev.atmsae.eval.probe;

/**
 * One-vs-rest L1-regularised logistic probe used for k-sparse latent selection (absorption.md §3 step 2).
 *
 * <p>Objective (per class, bias not penalised): (1/n)·Σ_i [pw·y_i·log(1+e^{−z_i}) + (1−y_i)·log(1+e^{z_i})]
 * + λ₁·‖w‖₁ + (λ₂/2)·‖w‖², with pos_weight pw = n_neg/n_pos, λ₁ = 0.01, λ₂ = 1e-6 — SAEBench's
 * {@code BCEWithLogitsLoss(pos_weight)} + 0.01·mean-over-probes L1 + weight decay, which separates per class. SAEBench
 * minimises it with 50 shuffled Adam epochs; atmsae uses deterministic full-batch FISTA with backtracking (the same
 * optimum, without run-to-run drift). Only the ordering of the signed weights is used downstream.
 */
public final class L1LogisticProbe {
    public static final double L1 = 0.01;
    public static final double L2 = 1e-6;

    private L1LogisticProbe() {
    }

    /**
     * Fits one class; returns the weights (length d) and bias.
     *
     * <p>The linear predictors z = X·θ + b are carried between iterations rather than recomputed: FISTA's extrapolated
     * point v = next + β·(next − w) is linear in θ, so z_v = z_next + β·(z_next − z_w) from two exact products. Each
     * iteration then costs one pass over X for the trial point (per backtracking step) and one for the gradient,
     * instead of one more for z_v.
     */
    public static LogisticModel fit(Rows x, boolean[] y, double l1, double l2, int maxIter) {
        int n = x.n(), d = x.d();
        int pos = 0;
        for (boolean v : y) {
            pos += v ? 1 : 0;
        }
        if (pos == 0 || pos == n) {
            return new LogisticModel(new double[d], 0);
        }
        double pw = (double) (n - pos) / pos;
        double[] sign = new double[n];   // −1 on positive rows: the margin whose softplus is the row's loss
        double[] weight = new double[n]; // pos_weight on positive rows
        for (int i = 0; i < n; i++) {
            sign[i] = y[i] ? -1 : 1;
            weight[i] = y[i] ? pw : 1.0;
        }
        double[] slope = new double[n];
        double[] w = new double[d + 1];
        double[] v = w.clone();
        double[] grad = new double[d + 1];
        double[] next = new double[d + 1];
        double[] zW = new double[n];    // X·w + b (w = 0 at the start)
        double[] zV = new double[n];    // X·v + b
        double[] zNext = new double[n]; // X·next + b
        double lipschitz = 1.0;
        double t = 1.0;
        for (int iter = 0; iter < maxIter; iter++) {
            double fv = smoothWithGradient(x, sign, weight, l2, v, zV, grad, slope);
            double fNext;
            while (true) {
                for (int j = 0; j < d; j++) {
                    double u = v[j] - grad[j] / lipschitz;
                    double thr = l1 / lipschitz;
                    next[j] = Math.signum(u) * Math.max(Math.abs(u) - thr, 0.0);
                }
                next[d] = v[d] - grad[d] / lipschitz;
                x.dotAll(next, zNext); // next is L1-sparse: sparse code rows visit its nonzero entries only
                for (int i = 0; i < n; i++) {
                    zNext[i] += next[d];
                }
                fNext = smooth(sign, weight, l2, next, zNext, d);
                double quad = 0, lin = 0;
                for (int j = 0; j <= d; j++) {
                    double diff = next[j] - v[j];
                    lin += grad[j] * diff;
                    quad += diff * diff;
                }
                if (fNext <= fv + lin + 0.5 * lipschitz * quad + 1e-15 || lipschitz > 1e12) {
                    break;
                }
                lipschitz *= 2;
            }
            double tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
            double beta = (t - 1) / tNext;
            double moved = 0, size = 0;
            for (int j = 0; j <= d; j++) {
                double diff = next[j] - w[j];
                moved += diff * diff;
                size += next[j] * next[j];
                v[j] = next[j] + beta * diff;
                w[j] = next[j];
            }
            for (int i = 0; i < n; i++) {
                zV[i] = zNext[i] + beta * (zNext[i] - zW[i]);
                zW[i] = zNext[i];
            }
            t = tNext;
            if (moved <= 1e-14 * Math.max(1.0, size)) {
                break;
            }
            lipschitz *= 0.9; // let the step grow again where the curvature allows
        }
        double[] weights = new double[d];
        System.arraycopy(w, 0, weights, 0, d);
        return new LogisticModel(weights, w[d]);
    }

    /** Smooth part (pos-weighted BCE + L2) at θ whose predictors are z. */
    private static double smooth(double[] sign, double[] weight, double l2, double[] theta, double[] z, int d) {
        return LogisticTerms.lossAndSlopes(z, sign, weight, z.length, null) / z.length + penalty(l2, theta, d);
    }

    /** {@link #smooth} and its gradient (into {@code grad}); {@code slope} is scratch of length n. */
    private static double smoothWithGradient(Rows x, double[] sign, double[] weight, double l2, double[] theta,
                                             double[] z, double[] grad, double[] slope) {
        int n = x.n(), d = x.d();
        java.util.Arrays.fill(grad, 0.0);
        double loss = LogisticTerms.lossAndSlopes(z, sign, weight, n, slope);
        for (int i = 0; i < n; i++) {
            x.addTo(i, slope[i] / n, grad);
            grad[d] += slope[i] / n;
        }
        for (int j = 0; j < d; j++) {
            grad[j] += l2 * theta[j];
        }
        return loss / n + penalty(l2, theta, d);
    }

    private static double penalty(double l2, double[] theta, int d) {
        double s = 0;
        for (int j = 0; j < d; j++) {
            s += 0.5 * l2 * theta[j] * theta[j];
        }
        return s;
    }
}
