package dev.atmsae.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Four rows at a time must give each row the bits of its own index-order float64 sum. */
class RowSquaresTest {
    @Test
    void blockedSumsEqualRowByRowSums() {
        int rows = 11, d = 37; // two blocks of four and a tail of three
        float[] x = new float[rows * d];
        double[] y = new double[d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (Philox.gaussian(31, Philox.STREAM_PROBE, i) * (i % 13 == 0 ? 1e5 : 1));
        }
        for (int j = 0; j < d; j++) {
            y[j] = Philox.gaussian(32, Philox.STREAM_PROBE, j);
        }
        double[] squares = new double[rows];
        double[] distances = new double[rows];
        RowSquares.of(x, rows, d, squares);
        RowSquares.ofDifferences(x, rows, d, y, distances);
        for (int r = 0; r < rows; r++) {
            double s = 0, t = 0;
            for (int j = 0; j < d; j++) {
                double v = x[r * d + j];
                s += v * v;
                double u = x[r * d + j] - y[j];
                t += u * u;
            }
            assertEquals(Double.doubleToRawLongBits(s), Double.doubleToRawLongBits(squares[r]), "row " + r);
            assertEquals(Double.doubleToRawLongBits(t), Double.doubleToRawLongBits(distances[r]), "row " + r);
        }
    }
}
