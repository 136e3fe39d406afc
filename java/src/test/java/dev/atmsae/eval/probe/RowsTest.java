package dev.atmsae.eval.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.atmsae.core.Philox;
import dev.atmsae.eval.SaeForward;
import org.junit.jupiter.api.Test;

/**
 * The batched products of {@link Rows} promise the bits of the row-by-row {@link Rows#dot}: the probes' results (and
 * the cached ground-truth probes) must not depend on which path computed them.
 */
class RowsTest {
    private static double gaussian(long seed, long i) {
        return Philox.gaussian(seed, Philox.STREAM_PROBE, i);
    }

    @Test
    void floatRowsComputeFourRowsAtOnceWithTheSameBits() {
        int d = 37, total = 50;
        float[] x = new float[total * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (gaussian(3, i) * (i % 11 == 0 ? 1e4 : 1)); // mixed magnitudes: order-sensitive sums
        }
        int[] sel = new int[23];
        for (int t = 0; t < sel.length; t++) {
            sel[t] = (t * 7) % total;
        }
        double[] w = new double[d];
        for (int j = 0; j < d; j++) {
            w[j] = gaussian(4, j);
        }
        Rows rows = Rows.floats(x, d, sel);
        int[] which = {0, 5, 22, 3, 3, 17, 9, 1, 12, 20, 6};
        double[] z = new double[which.length];
        rows.dots(which, 1, which.length, w, z); // from 1: blocks of four from there, and a tail of two
        for (int t = 1; t < which.length; t++) {
            assertEquals(Double.doubleToRawLongBits(rows.dot(which[t], w)), Double.doubleToRawLongBits(z[t]), "row " + t);
        }
    }

    @Test
    void sparseCodeRowsVisitOnlyNonzeroWeightsWithTheSameBits() {
        int rows = 60, cols = 40;
        int[] rowPtr = new int[rows + 1];
        java.util.List<Integer> idx = new java.util.ArrayList<>();
        java.util.List<Float> val = new java.util.ArrayList<>();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                if (Philox.uniform(5, Philox.STREAM_PROBE, (long) r * cols + j) < 0.3) {
                    idx.add(j);
                    val.add((float) Math.abs(gaussian(6, (long) r * cols + j) * (j % 3 == 0 ? 1e3 : 1)));
                }
            }
            rowPtr[r + 1] = idx.size(); // some rows stay empty
        }
        int[] idxArr = idx.stream().mapToInt(Integer::intValue).toArray();
        float[] valArr = new float[val.size()];
        for (int p = 0; p < valArr.length; p++) {
            valArr[p] = val.get(p);
        }
        SaeForward.Codes codes = new SaeForward.Codes(rows, cols, rowPtr, idxArr, valArr);
        int[] sel = {2, 3, 5, 8, 13, 21, 34, 55, 59, 0};
        Rows x = Rows.sparse(codes, sel);
        double[] w = new double[cols];
        for (int j = 0; j < cols; j++) {
            double u = Philox.uniform(7, Philox.STREAM_PROBE, j);
            w[j] = u < 0.5 ? (j % 2 == 0 ? 0.0 : -0.0) : gaussian(8, j); // L1-style: half the weights ±0
        }
        double[] z = new double[sel.length];
        x.dotAll(w, z);
        for (int r = 0; r < sel.length; r++) {
            assertEquals(Double.doubleToRawLongBits(x.dot(r, w)), Double.doubleToRawLongBits(z[r]), "row " + r);
        }
    }

    @Test
    void sparseCodeRowsRefuseRowsNotInAscendingLatentOrder() {
        SaeForward.Codes codes = new SaeForward.Codes(1, 4, new int[] {0, 2}, new int[] {3, 1}, new float[] {1f, 2f});
        Rows x = Rows.sparse(codes, new int[] {0});
        assertThrows(IllegalArgumentException.class, () -> x.dotAll(new double[] {1, 1, 1, 1}, new double[1]));
    }
}
