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
        return new Rows() {
            public int n() {
                return sel.length;
            }

            public int d() {
                return codes.cols();
            }

            public double dot(int r, double[] w) {
                double s = 0;
                int row = sel[r];
                for (int p = codes.rowPtr()[row]; p < codes.rowPtr()[row + 1]; p++) {
                    s += codes.val()[p] * w[codes.idx()[p]];
                }
                return s;
            }

            public void addTo(int r, double a, double[] g) {
                int row = sel[r];
                for (int p = codes.rowPtr()[row]; p < codes.rowPtr()[row + 1]; p++) {
                    g[codes.idx()[p]] += a * codes.val()[p];
                }
            }

            public boolean isZero(int r) {
                return codes.rowPtr()[sel[r]] == codes.rowPtr()[sel[r] + 1]; // codes keep only f > 0
            }
        };
    }
}
