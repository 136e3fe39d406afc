package dev.atmsae.core;

/**
 * Geometric median of a set of rows by Weiszfeld's iteration in float64 (the b_dec initialisation): start at the
 * mean, then y ← Σ w_b x_b / Σ w_b with w_b = 1/max(‖x_b − y‖, 1e-12·scale), until the step is tiny.
 */
public final class GeometricMedian {
    public static final int MAX_ITERATIONS = 50;

    private GeometricMedian() {
    }

    public static double[] of(float[] rows, int dim) {
        int count = rows.length / dim;
        if (count < 1 || rows.length % dim != 0) {
            throw new IllegalArgumentException("geometric median needs whole rows of width " + dim + ", got " + rows.length + " values");
        }
        double[] y = new double[dim];
        for (int b = 0; b < count; b++) {
            for (int j = 0; j < dim; j++) {
                y[j] += rows[b * dim + j];
            }
        }
        double scale = 0;
        for (int j = 0; j < dim; j++) {
            y[j] /= count;
            scale = Math.max(scale, Math.abs(y[j]));
        }
        double floor = 1e-12 * Math.max(scale, 1e-30);
        double[] next = new double[dim];
        double[] distSq = new double[count];
        for (int it = 0; it < MAX_ITERATIONS; it++) {
            java.util.Arrays.fill(next, 0);
            double wsum = 0;
            RowSquares.ofDifferences(rows, count, dim, y, distSq);
            for (int b = 0; b < count; b++) {
                double w = 1.0 / Math.max(Math.sqrt(distSq[b]), floor);
                wsum += w;
                for (int j = 0; j < dim; j++) {
                    next[j] += w * rows[b * dim + j];
                }
            }
            double move = 0, norm = 0;
            for (int j = 0; j < dim; j++) {
                next[j] /= wsum;
                move += (next[j] - y[j]) * (next[j] - y[j]);
                norm += next[j] * next[j];
                y[j] = next[j];
            }
            if (move <= 1e-20 * Math.max(norm, 1e-30)) {
                break;
            }
        }
        return y;
    }
}
