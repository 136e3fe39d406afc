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

    /** Fits one class; returns the weights (length d) and bias. */
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
        double[] w = new double[d + 1];
        double[] v = w.clone();
        double[] grad = new double[d + 1];
        double[] next = new double[d + 1];
        double lipschitz = 1.0;
        double t = 1.0;
        for (int iter = 0; iter < maxIter; iter++) {
            double fv = smooth(x, y, pw, l2, v, grad);
            double fNext;
            while (true) {
                for (int j = 0; j < d; j++) {
                    double u = v[j] - grad[j] / lipschitz;
                    double thr = l1 / lipschitz;
                    next[j] = Math.signum(u) * Math.max(Math.abs(u) - thr, 0.0);
                }
                next[d] = v[d] - grad[d] / lipschitz;
                fNext = smooth(x, y, pw, l2, next, null);
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
            double moved = 0, size = 0;
            for (int j = 0; j <= d; j++) {
                double diff = next[j] - w[j];
                moved += diff * diff;
                size += next[j] * next[j];
                v[j] = next[j] + ((t - 1) / tNext) * diff;
                w[j] = next[j];
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

    /** Smooth part (pos-weighted BCE + L2) and, if {@code grad != null}, its gradient. */
    private static double smooth(Rows x, boolean[] y, double pw, double l2, double[] theta, double[] grad) {
        int n = x.n(), d = x.d();
        if (grad != null) {
            java.util.Arrays.fill(grad, 0.0);
        }
        double loss = 0;
        for (int i = 0; i < n; i++) {
            double z = x.dot(i, theta) + theta[d];
            double r;
            if (y[i]) {
                loss += pw * LogisticRegression.softplus(-z);
                r = -pw * LogisticRegression.sigmoid(-z);
            } else {
                loss += LogisticRegression.softplus(z);
                r = LogisticRegression.sigmoid(z);
            }
            if (grad != null) {
                x.addTo(i, r / n, grad);
                grad[d] += r / n;
            }
        }
        loss /= n;
        for (int j = 0; j < d; j++) {
            loss += 0.5 * l2 * theta[j] * theta[j];
            if (grad != null) {
                grad[j] += l2 * theta[j];
            }
        }
        return loss;
    }
}
