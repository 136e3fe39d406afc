package dev.atmsae.eval.probe;

import dev.atmsae.eval.SaeForward;

/**
 * A read-only design matrix seen row by row, so that probes can train on float activations, on a subset of rows or on
 * sparse SAE codes without copying them into one dense float64 matrix.
 */
public interface Rows {
    int n();

    int d();

    /** Σ_j x[r, j]·w[j]. */
    double dot(int r, double[] w);

    /** g[j] += a·x[r, j] for every j. */
    void addTo(int r, double a, double[] g);

    /** True when every x[r, j] is 0: the row reaches a linear model through its bias alone. */
    boolean isZero(int r);

    /** z[r] = {@link #dot}(r, w) for every row; implementations may be faster but give the same bits. */
    default void dotAll(double[] w, double[] z) {
        for (int r = 0; r < n(); r++) {
            z[r] = dot(r, w);
        }
    }

    /**
     * g[j·width + q] += Σ_r a[r·width + q]·x[r, j] for q &lt; width: Xᵀ·A for {@code width} columns of A at once, each
     * column's sums taken over rows in ascending order with the products of {@link #addTo}, so every column gets the
     * bits that row-by-row {@code addTo} calls would give it.
     */
    default void transposeTimes(double[] a, int width, double[] g) {
        int d = d();
        double[] term = new double[d];
        for (int r = 0; r < n(); r++) {
            for (int q = 0; q < width; q++) {
                java.util.Arrays.fill(term, 0.0);
                addTo(r, a[r * width + q], term); // 0 + a·x: the product itself
                for (int j = 0; j < d; j++) {
                    g[j * width + q] += term[j];
                }
            }
        }
    }

    /** z[t] = {@link #dot}(rows[t], w) for from ≤ t &lt; to; implementations may be faster but give the same bits. */
    default void dots(int[] rows, int from, int to, double[] w, double[] z) {
        for (int t = from; t < to; t++) {
            z[t] = dot(rows[t], w);
        }
    }

    /** Dense float64 rows, row-major [n, d]. */
    static Rows dense(double[] x, int n, int d) {
        return new Rows() {
            public int n() {
                return n;
            }

            public int d() {
                return d;
            }

            public double dot(int r, double[] w) {
                double s = 0;
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    s += x[base + j] * w[j];
                }
                return s;
            }

            public void addTo(int r, double a, double[] g) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    g[j] += a * x[base + j];
                }
            }

            public boolean isZero(int r) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    if (x[base + j] != 0) {
                        return false;
                    }
                }
                return true;
            }
        };
    }

    /** The selected rows {@code sel} of a row-major float matrix with d columns. */
    static Rows floats(float[] x, int d, int[] sel) {
        return new Rows() {
            public int n() {
                return sel.length;
            }

            public int d() {
                return d;
            }

            public double dot(int r, double[] w) {
                double s = 0;
                long base = (long) sel[r] * d;
                for (int j = 0; j < d; j++) {
                    s += x[(int) (base + j)] * w[j];
                }
                return s;
            }

            public void addTo(int r, double a, double[] g) {
                long base = (long) sel[r] * d;
                for (int j = 0; j < d; j++) {
                    g[j] += a * x[(int) (base + j)];
                }
            }

            /**
             * Four rows at a time, each summed in its own variable in the order of {@link #dot}: the same bits, but
             * four independent chains of additions instead of one (a single chain waits out the adder's latency at
             * every term; with d = 384 this loop was most of a ground-truth probe fit).
             */
            public void dots(int[] rows, int from, int to, double[] w, double[] z) {
                int t = from;
                for (; t + 4 <= to; t += 4) {
                    int b0 = sel[rows[t]] * d, b1 = sel[rows[t + 1]] * d, b2 = sel[rows[t + 2]] * d;
                    int b3 = sel[rows[t + 3]] * d;
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (int j = 0; j < d; j++) {
                        double wj = w[j];
                        s0 += x[b0 + j] * wj;
                        s1 += x[b1 + j] * wj;
                        s2 += x[b2 + j] * wj;
                        s3 += x[b3 + j] * wj;
                    }
                    z[t] = s0;
                    z[t + 1] = s1;
                    z[t + 2] = s2;
                    z[t + 3] = s3;
                }
                for (; t < to; t++) {
                    z[t] = dot(rows[t], w);
                }
            }

            public boolean isZero(int r) {
                long base = (long) sel[r] * d;
                for (int j = 0; j < d; j++) {
                    if (x[(int) (base + j)] != 0) {
                        return false;
                    }
                }
                return true;
            }
        };
    }

    /** The selected rows {@code sel} of sparse SAE codes (d = d_sae). */
    static Rows sparse(SaeForward.Codes codes, int[] sel) {
        return new SparseCodeRows(codes, sel);
    }
}
