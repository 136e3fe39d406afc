package dev.atmsae.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.atmsae.core.Philox;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link SaeForward.Codes#gather} against the cell-by-cell definition (binary search per cell, {@code get}). */
class CodesGatherTest {
    @Test
    void gatherEqualsCellByCellLookupForAnySelectionIncludingRepeatsAndInactiveLatents() {
        int rows = 300, cols = 97;
        List<Integer> idx = new ArrayList<>();
        List<Float> val = new ArrayList<>();
        int[] rowPtr = new int[rows + 1];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                if (Philox.uniform(5, Philox.STREAM_PROBE, (long) r * cols + c) < 0.08) {
                    idx.add(c);
                    val.add(0.1f + (float) Philox.uniform(6, Philox.STREAM_PROBE, (long) r * cols + c));
                }
            }
            rowPtr[r + 1] = idx.size();
        }
        float[] v = new float[val.size()];
        for (int p = 0; p < v.length; p++) {
            v[p] = val.get(p);
        }
        SaeForward.Codes codes = new SaeForward.Codes(rows, cols, rowPtr, idx.stream().mapToInt(Integer::intValue).toArray(), v);
        int[] rowSel = {299, 0, 17, 17, 150, 3};
        int[] colSel = {5, 96, 5, 0, 40, 41, 42, 12};  // latent 5 twice
        double[] got = codes.gather(rowSel, colSel);
        int nonZero = 0;
        for (int a = 0; a < rowSel.length; a++) {
            for (int b = 0; b < colSel.length; b++) {
                double expected = codes.get(rowSel[a], colSel[b]);
                nonZero += expected != 0 ? 1 : 0;
                assertEquals(expected, got[a * colSel.length + b], 0.0, "row " + rowSel[a] + " latent " + colSel[b]);
            }
        }
        assertEquals(true, nonZero > 0, "the selection must hit active entries for the test to mean anything");
    }
}
