package dev.atmsae.eval.probe;

import java.util.ArrayList;
import java.util.List;

/**
 * Binary L2-regularised logistic regression in float64, fitted full-batch with L-BFGS (memory 10, Armijo backtracking).
 *
 * <p>Objective (bias not penalised): (1/n)·Σ_i s_i·[log(1 + e^{z_i}) − y_i·z_i] + (l2/2)·‖w‖², z_i = w·x_i + b.
 * With class-balanced weights s_i = n / (2·n_{y_i}) (sklearn's {@code class_weight="balanced"}) and l2 = 1/n this is
 * exactly sklearn's {@code LogisticRegression(C=1, class_weight="balanced")}, the fit SAEBench uses per k. For the
 * ground-truth probes atmsae uses l2 = 1e-4, the weight decay SAEBench's Adam probe applies (absorption.md §2): a
 * deterministic full-batch optimum instead of 50 shuffled Adam epochs, same objective family.
 */
public final class LogisticRegression {
    /** sklearn's C = 1 expressed on the mean-loss objective is 1/n; this marker asks for it. */
    public static final double L2_SKLEARN_C1 = -1;
    /** Up to this many features the objective works on a column copy of the rows (k-sparse probes: k ≤ 20). */
    static final int COLUMNAR_MAX_D = 32;
    /** Rows per block of the row path: a few KB of features, still in L1 when their gradient terms are added. */
    private static final int ROW_BLOCK = 8;

    private LogisticRegression() {
    }

    /** Class-balanced fit; {@code l2 = L2_SKLEARN_C1} means 1/n. Degenerate labels (one class only) give w = 0. */
    public static LogisticModel fitBalanced(Rows x, boolean[] y, double l2, int maxIter) {
        return fit(x, y, balancedWeights(y), l2 == L2_SKLEARN_C1 ? 1.0 / x.n() : l2, maxIter);
    }

    /** s_i = n / (2·n_{class of i}); zero weight for a class that is absent. */
    public static double[] balancedWeights(boolean[] y) {
        int pos = 0;
        for (boolean v : y) {
            pos += v ? 1 : 0;
        }
        int neg = y.length - pos;
        double[] s = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            int count = y[i] ? pos : neg;
            s[i] = y.length / (2.0 * count);
        }
        return s;
    }

    /** Weighted fit of the objective in the class comment. */
    public static LogisticModel fit(Rows x, boolean[] y, double[] s, double l2, int maxIter) {
        return fitAll(x, List.of(y), List.of(s), l2, maxIter).get(0);
    }

    /** Class-balanced fits of several label vectors on the same rows ({@link #fitAll}). */
    public static List<LogisticModel> fitBalancedAll(Rows x, List<boolean[]> ys, double l2, int maxIter) {
        List<double[]> weights = ys.stream().map(LogisticRegression::balancedWeights).toList();
        return fitAll(x, ys, weights, l2 == L2_SKLEARN_C1 ? 1.0 / x.n() : l2, maxIter);
    }

    /**
     * Weighted fits of several label vectors on the same rows, in lockstep: every class runs its own L-BFGS
     * ({@link Lbfgs}) exactly as it would alone — the same bits — while each round of objective evaluations reads the
     * rows once for all classes still running ({@link Objective#evaluateAll}). The ground-truth probes (one per
     * parent class, d = 384 float rows that do not fit in cache) were bound by reading the rows, once per class.
     */
    public static List<LogisticModel> fitAll(Rows x, List<boolean[]> ys, List<double[]> weights, double l2, int maxIter) {
        int d = x.d();
        LogisticModel[] models = new LogisticModel[ys.size()];
        List<Objective> objectives = new ArrayList<>();
        List<Lbfgs> searches = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (int c = 0; c < ys.size(); c++) {
            boolean[] y = ys.get(c);
            double[] s = weights.get(c);
            if (y.length != x.n() || s.length != x.n()) {
                throw new IllegalArgumentException("labels/weights do not match " + x.n() + " rows");
            }
            int pos = 0;
            for (boolean v : y) {
                pos += v ? 1 : 0;
            }
            if (pos == 0 || pos == y.length) {
                models[c] = new LogisticModel(new double[d], pos == 0 ? -10 : 10);
            } else {
                objectives.add(new Objective(x, y, s, l2));
                searches.add(new Lbfgs(d + 1, maxIter));
                owners.add(c);
            }
        }
        while (true) {
            List<Objective> asking = new ArrayList<>();
            List<Lbfgs> waiting = new ArrayList<>();
            for (int q = 0; q < searches.size(); q++) {
                if (!searches.get(q).done()) {
                    asking.add(objectives.get(q));
                    waiting.add(searches.get(q));
                }
            }
            if (waiting.isEmpty()) {
                break;
            }
            double[] values = Objective.evaluateAll(asking, waiting.stream().map(Lbfgs::point).toList(),
                    waiting.stream().map(Lbfgs::gradientOut).toList());
            for (int q = 0; q < waiting.size(); q++) {
                waiting.get(q).receive(values[q]);
            }
        }
        for (int q = 0; q < searches.size(); q++) {
            double[] theta = searches.get(q).solution();
            models[owners.get(q)] = new LogisticModel(java.util.Arrays.copyOf(theta, d), theta[d]);
        }
        return List.of(models);
    }

    /**
     * Weighted mean logistic loss + L2, and its gradient (last entry = bias).
     *
     * <p>Rows that are entirely zero have z = b whatever w is, so all zero rows of one label are one term: weight
     * Σ s_i, the same loss and bias gradient, nothing for w. They are folded into two such terms once, and each
     * evaluation visits only the nonzero rows. That is the same objective (up to the order of a floating-point sum);
     * it matters for k-sparse probes on SAE latents, where most rows have none of the k latents active.
     */
    static final class Objective {
        private final Rows x;
        private final boolean[] y;
        private final double[] s;
        private final double l2;
        private final int n;
        /** The rows that are not all zero, ascending. */
        private final int[] nonZero;
        /** Σ s_i over the all-zero rows with y_i false [0] and true [1]. */
        private final double[] zeroWeight = new double[2];
        /**
         * For few features (d ≤ {@link #COLUMNAR_MAX_D}): the nonzero rows copied column by column (feature j of
         * term t at [j·m + t]), so that X·w and Xᵀ·r run as vector loops over the rows instead of a short loop per
         * row behind an interface call, and the exp/log of every row in one vector pass ({@link LogisticTerms});
         * null otherwise. z and r: scratch per nonzero row for that path.
         */
        private final double[] columns;
        private final double[] z;
        private final double[] r;
        /** For the column path: per nonzero row, −1 / +1 for a positive / negative label, and s_i. */
        private final double[] sign;
        private final double[] weight;
        /** For the row path: x_i·w of every nonzero row. */
        private final double[] rowDots;

        Objective(Rows x, boolean[] y, double[] s, double l2) {
            this.x = x;
            this.y = y;
            this.s = s;
            this.l2 = l2;
            this.n = x.n();
            int[] kept = new int[n];
            int count = 0;
            for (int i = 0; i < n; i++) {
                if (x.isZero(i)) {
                    zeroWeight[y[i] ? 1 : 0] += s[i];
                } else {
                    kept[count++] = i;
                }
            }
            this.nonZero = java.util.Arrays.copyOf(kept, count);
            if (x.d() <= COLUMNAR_MAX_D) {
                columns = columnCopy(x, nonZero);
                z = new double[count];
                r = new double[count];
                sign = new double[count];
                weight = new double[count];
                for (int t = 0; t < count; t++) {
                    sign[t] = y[nonZero[t]] ? -1 : 1;
                    weight[t] = s[nonZero[t]];
                }
                rowDots = null;
            } else {
                columns = z = r = sign = weight = null;
                rowDots = new double[count];
            }
        }

        private static double[] columnCopy(Rows x, int[] rows) {
            int d = x.d(), m = rows.length;
            double[] out = new double[d * m];
            double[] row = new double[d];
            for (int t = 0; t < m; t++) {
                java.util.Arrays.fill(row, 0.0);
                x.addTo(rows[t], 1.0, row);
                for (int j = 0; j < d; j++) {
                    out[j * m + t] = row[j];
                }
            }
            return out;
        }

        double valueAndGradient(double[] theta, double[] grad) {
            return columns != null ? byColumns(theta, grad) : byRows(theta, grad);
        }

        private double byRows(double[] theta, double[] grad) {
            java.util.Arrays.fill(grad, 0.0);
            double loss = 0;
            for (int from = 0; from < nonZero.length; from += ROW_BLOCK) {
                loss = addRows(from, Math.min(from + ROW_BLOCK, nonZero.length), theta, grad, loss);
            }
            return withFoldedRowsAndPenalty(loss, theta, grad);
        }

        /**
         * Adds the terms of nonzero rows [from, to) to {@code loss} and {@code grad}: their products in one call
         * (independent sums), then their gradient terms while the rows are still in cache.
         */
        private double addRows(int from, int to, double[] theta, double[] grad, double loss) {
            int d = x.d();
            double b = theta[d];
            x.dots(nonZero, from, to, theta, rowDots);
            for (int t = from; t < to; t++) {
                int i = nonZero[t];
                double zi = rowDots[t] + b;
                // One exp per row serves both the loss and the gradient.
                double e = Math.exp(-Math.abs(zi));
                loss += s[i] * (softplus(zi, e) - (y[i] ? zi : 0));
                double ri = s[i] * (sigmoid(zi, e) - (y[i] ? 1 : 0)) / n;
                x.addTo(i, ri, grad);
                grad[d] += ri;
            }
            return loss;
        }

        /**
         * {@link #valueAndGradient} of each objective at its own point, with the same bits. Objectives on the same rows
         * by the row path go through the rows block by block, each block once for all of them; each objective's
         * sums still run over the rows in order.
         */
        static double[] evaluateAll(List<Objective> objectives, List<double[]> thetas, List<double[]> grads) {
            double[] values = new double[objectives.size()];
            boolean shared = objectives.stream().allMatch(o -> o.columns == null && o.x == objectives.get(0).x);
            if (!shared || objectives.size() == 1) {
                for (int q = 0; q < objectives.size(); q++) {
                    values[q] = objectives.get(q).valueAndGradient(thetas.get(q), grads.get(q));
                }
                return values;
            }
            int rows = objectives.get(0).nonZero.length;
            for (double[] grad : grads) {
                java.util.Arrays.fill(grad, 0.0);
            }
            for (int from = 0; from < rows; from += ROW_BLOCK) {
                int to = Math.min(from + ROW_BLOCK, rows);
                for (int q = 0; q < objectives.size(); q++) {
                    values[q] = objectives.get(q).addRows(from, to, thetas.get(q), grads.get(q), values[q]);
                }
            }
            for (int q = 0; q < objectives.size(); q++) {
                values[q] = objectives.get(q).withFoldedRowsAndPenalty(values[q], thetas.get(q), grads.get(q));
            }
            return values;
        }

        /** The same terms on the column copy: z = b + Σ_j w_j·X[:, j], then g_j = X[:, j]·r. */
        private double byColumns(double[] theta, double[] grad) {
            int d = x.d(), m = nonZero.length;
            java.util.Arrays.fill(grad, 0.0);
            double b = theta[d];
            java.util.Arrays.fill(z, b);
            for (int j = 0; j < d; j++) {
                if (theta[j] != 0) {
                    ColumnLoops.axpy(theta[j], columns, j * m, z, m);
                }
            }
            double loss = LogisticTerms.lossAndSlopes(z, sign, weight, m, r);
            for (int t = 0; t < m; t++) {
                r[t] /= n;
                grad[d] += r[t];
            }
            for (int j = 0; j < d; j++) {
                grad[j] = ColumnLoops.dot(r, columns, j * m, m);
            }
            return withFoldedRowsAndPenalty(loss, theta, grad);
        }

        /** Adds the folded zero rows (z = b: bias gradient only), takes the mean and adds the L2 penalty. */
        private double withFoldedRowsAndPenalty(double loss, double[] theta, double[] grad) {
            int d = x.d();
            double b = theta[d];
            for (int label = 0; label < 2; label++) {
                if (zeroWeight[label] > 0) {
                    double e = Math.exp(-Math.abs(b));
                    loss += zeroWeight[label] * (softplus(b, e) - (label == 1 ? b : 0));
                    grad[d] += zeroWeight[label] * (sigmoid(b, e) - label) / n;
                }
            }
            loss /= n;
            for (int j = 0; j < d; j++) {
                loss += 0.5 * l2 * theta[j] * theta[j];
                grad[j] += l2 * theta[j];
            }
            return loss;
        }

        /** log(1 + e^z) given e = e^{−|z|}. */
        private static double softplus(double z, double e) {
            return Math.max(z, 0) + log1pSmall(e);
        }

        /** σ(z) given e = e^{−|z|}. */
        private static double sigmoid(double z, double e) {
            return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        }
    }

    /** log(1 + e) for e in [0, 1]: Math.log is an intrinsic (log1p is not); a series keeps precision for tiny e. */
    static double log1pSmall(double e) {
        return e < 1e-4 ? e * (1 - e * (0.5 - e / 3)) : Math.log(1 + e);
    }

    public static double sigmoid(double z) {
        return z >= 0 ? 1.0 / (1.0 + Math.exp(-z)) : Math.exp(z) / (1.0 + Math.exp(z));
    }
}
