package dev.atmsae.eval.probe;

import java.util.ArrayList;
import java.util.List;

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
        return fitAll(x, List.of(y), l1, l2, maxIter).get(0);
    }

    /**
     * Fits one class per label vector on the same rows, in lockstep: each class runs exactly the iterations
     * {@link #fit} would run alone (same bits), but one pass over X per iteration forms the gradients of all classes
     * still running ({@link Rows#transposeTimes}) — the absorption metric fits one probe per parent class on the same
     * codes, and this pass was most of the fitting.
     */
    public static List<LogisticModel> fitAll(Rows x, List<boolean[]> labels, double l1, double l2, int maxIter) {
        List<ClassFit> fits = new ArrayList<>();
        for (boolean[] y : labels) {
            fits.add(new ClassFit(x, y, l1, l2));
        }
        int n = x.n(), d = x.d();
        double[] a = new double[0];
        double[] g = new double[0];
        for (int iter = 0; iter < maxIter; iter++) {
            List<ClassFit> running = fits.stream().filter(f -> !f.done).toList();
            if (running.isEmpty()) {
                break;
            }
            // columns padded to whole vectors so that Xᵀ·A runs four columns at a time; a column no class writes (the
            // padding, or a class that has stopped) only feeds a column of g that no class reads
            int lanes = SparseCodeRows.LANES.length();
            int width = running.size() == 1 ? 1 : (running.size() + lanes - 1) / lanes * lanes;
            if (a.length != n * width) {
                a = new double[n * width];
                g = new double[d * width];
            }
            for (int q = 0; q < running.size(); q++) {
                running.get(q).slopes(a, q, width);
            }
            java.util.Arrays.fill(g, 0.0);
            x.transposeTimes(a, width, g);
            for (int q = 0; q < running.size(); q++) {
                running.get(q).step(g, q, width);
            }
        }
        return fits.stream().map(ClassFit::model).toList();
    }

    /**
     * One class's FISTA state. The linear predictors z = X·θ + b are carried between iterations rather than
     * recomputed: FISTA's extrapolated point v = next + β·(next − w) is linear in θ, so z_v = z_next + β·(z_next − z_w)
     * from two exact products. Each iteration then costs one product for the trial point (per backtracking step) and
     * the shared gradient pass, instead of one more product for z_v.
     */
    private static final class ClassFit {
        private final Rows x;
        private final double l1;
        private final double l2;
        private final int n;
        private final int d;
        private final double[] sign;   // −1 on positive rows: the margin whose softplus is the row's loss
        private final double[] weight; // pos_weight on positive rows
        private final double[] slope;
        private final double[] w;
        private final double[] v;
        private final double[] grad;
        private final double[] next;
        private final double[] zW;     // X·w + b (w = 0 at the start)
        private final double[] zV;     // X·v + b
        private final double[] zNext;  // X·next + b
        private double lipschitz = 1.0;
        private double t = 1.0;
        private double fv;
        boolean done;

        ClassFit(Rows x, boolean[] y, double l1, double l2) {
            this.x = x;
            this.l1 = l1;
            this.l2 = l2;
            this.n = x.n();
            this.d = x.d();
            int pos = 0;
            for (boolean v : y) {
                pos += v ? 1 : 0;
            }
            w = new double[d + 1];
            done = pos == 0 || pos == n; // one class only: w = 0
            double pw = done ? 1 : (double) (n - pos) / pos;
            sign = new double[n];
            weight = new double[n];
            for (int i = 0; i < n; i++) {
                sign[i] = y[i] ? -1 : 1;
                weight[i] = y[i] ? pw : 1.0;
            }
            slope = new double[n];
            v = w.clone();
            grad = new double[d + 1];
            next = new double[d + 1];
            zW = new double[n];
            zV = new double[n];
            zNext = new double[n];
        }

        /** The smooth loss at v (kept for {@link #step}) and a[i·width + q] = ∂loss_i/∂z_i / n. */
        void slopes(double[] a, int q, int width) {
            double loss = LogisticTerms.lossAndSlopes(zV, sign, weight, n, slope);
            double gradBias = 0;
            for (int i = 0; i < n; i++) {
                double ai = slope[i] / n;
                a[i * width + q] = ai;
                gradBias += ai;
            }
            grad[d] = gradBias;
            fv = loss / n + penalty(l2, v, d);
        }

        /** Completes the gradient at v from column q of g = Xᵀ·a, then one FISTA iteration with backtracking. */
        void step(double[] g, int q, int width) {
            for (int j = 0; j < d; j++) {
                grad[j] = g[j * width + q] + l2 * v[j];
            }
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
                double fNext = LogisticTerms.lossAndSlopes(zNext, sign, weight, n, null) / n + penalty(l2, next, d);
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
                done = true;
            }
            lipschitz *= 0.9; // let the step grow again where the curvature allows
        }

        LogisticModel model() {
            double[] weights = new double[d];
            System.arraycopy(w, 0, weights, 0, d);
            return new LogisticModel(weights, w[d]);
        }
    }

    private static double penalty(double l2, double[] theta, int d) {
        double s = 0;
        for (int j = 0; j < d; j++) {
            s += 0.5 * l2 * theta[j] * theta[j];
        }
        return s;
    }
}
