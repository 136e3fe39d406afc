package dev.atmsae.core;

/**
 * Σ_j x[r, j]² of many rows in float64, each row summed in index order — four rows at a time, so that four
 * independent chains of additions run together instead of one waiting out the adder's latency at every term (the
 * same bits as one row at a time). Used where whole data samples are scanned: the input scale and the b_dec median.
 */
public final class RowSquares {
    private RowSquares() {
    }

    /** out[r] = Σ_j x[r·d + j]² for r &lt; rows ({@link #ofDifferences} from 0: x − 0 is x exactly). */
    public static void of(float[] x, int rows, int d, double[] out) {
        ofDifferences(x, rows, d, new double[d], out);
    }

    /** out[r] = Σ_j (x[r·d + j] − y[j])² for r &lt; rows, each row summed in index order (four rows at a time). */
    public static void ofDifferences(float[] x, int rows, int d, double[] y, double[] out) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int b0 = r * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int j = 0; j < d; j++) {
                double yj = y[j];
                double v0 = x[b0 + j] - yj, v1 = x[b1 + j] - yj, v2 = x[b2 + j] - yj, v3 = x[b3 + j] - yj;
                s0 += v0 * v0;
                s1 += v1 * v1;
                s2 += v2 * v2;
                s3 += v3 * v3;
            }
            out[r] = s0;
            out[r + 1] = s1;
            out[r + 2] = s2;
            out[r + 3] = s3;
        }
        for (; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double v = x[r * d + j] - y[j];
                s += v * v;
            }
            out[r] = s;
        }
    }
}
