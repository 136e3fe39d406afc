package dev.atmsae.eval.probe;

import dev.atmsae.eval.SaeForward;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Selected rows of sparse SAE codes as a probe design matrix. Besides the row view it keeps, once asked, a column
 * copy (CSC) so that {@link #dotAll} can visit only the latents whose weight is nonzero: an L1 probe's weights are
 * mostly zero, and row by row every stored code would be multiplied by its latent's weight, zero or not, in a chain
 * of dependent additions.
 */
final class SparseCodeRows implements Rows {
    /** Fixed 256-bit lanes: the same on both machine kinds (each lane is an independent column anyway). */
    static final VectorSpecies<Double> LANES = DoubleVector.SPECIES_256;
    private final SaeForward.Codes codes;
    private final int[] sel;
    /** Column j's entries are colRows/colVals[colPtr[j] .. colPtr[j + 1]), rows ascending. */
    private int[] colPtr;
    private int[] colRows;
    private float[] colVals;

    SparseCodeRows(SaeForward.Codes codes, int[] sel) {
        this.codes = codes;
        this.sel = sel;
    }

    @Override
    public int n() {
        return sel.length;
    }

    @Override
    public int d() {
        return codes.cols();
    }

    @Override
    public double dot(int r, double[] w) {
        double s = 0;
        int row = sel[r];
        for (int p = codes.rowPtr()[row]; p < codes.rowPtr()[row + 1]; p++) {
            s += codes.val()[p] * w[codes.idx()[p]];
        }
        return s;
    }

    @Override
    public void addTo(int r, double a, double[] g) {
        int row = sel[r];
        for (int p = codes.rowPtr()[row]; p < codes.rowPtr()[row + 1]; p++) {
            g[codes.idx()[p]] += a * codes.val()[p];
        }
    }

    @Override
    public boolean isZero(int r) {
        return codes.rowPtr()[sel[r]] == codes.rowPtr()[sel[r] + 1]; // codes keep only f > 0
    }

    /** Row by row, each stored code feeding all {@code width} columns of g at once (one pass over the codes). */
    @Override
    public void transposeTimes(double[] a, int width, double[] g) {
        int[] rowPtr = codes.rowPtr();
        int[] idx = codes.idx();
        float[] val = codes.val();
        if (width % LANES.length() == 0) {
            // four columns per vector: g += a·v lane by lane is the scalar loop's multiply then add, the same bits
            for (int r = 0; r < sel.length; r++) {
                int row = sel[r];
                int aBase = r * width;
                for (int p = rowPtr[row]; p < rowPtr[row + 1]; p++) {
                    int gBase = idx[p] * width;
                    DoubleVector v = DoubleVector.broadcast(LANES, val[p]);
                    for (int q = 0; q < width; q += LANES.length()) {
                        DoubleVector.fromArray(LANES, g, gBase + q)
                                .add(DoubleVector.fromArray(LANES, a, aBase + q).mul(v)).intoArray(g, gBase + q);
                    }
                }
            }
            return;
        }
        for (int r = 0; r < sel.length; r++) {
            int row = sel[r];
            int aBase = r * width;
            for (int p = rowPtr[row]; p < rowPtr[row + 1]; p++) {
                int gBase = idx[p] * width;
                double v = val[p];
                for (int q = 0; q < width; q++) {
                    g[gBase + q] += a[aBase + q] * v;
                }
            }
        }
    }

    /**
     * Column by column over the latents with w_j ≠ 0, in ascending j. A code row stores its latents in ascending order
     * (both encoders write them so), so every z[r] receives the same products in the same order as {@link #dot}; the
     * skipped terms are code·(±0), which leave a sum unchanged. Hence the same bits, at the cost of the nonzero
     * weights' columns only.
     */
    @Override
    public void dotAll(double[] w, double[] z) {
        if (colPtr == null) {
            buildColumns();
        }
        java.util.Arrays.fill(z, 0, sel.length, 0.0);
        for (int j = 0; j < colPtr.length - 1; j++) {
            double wj = w[j];
            if (wj != 0) {
                for (int p = colPtr[j]; p < colPtr[j + 1]; p++) {
                    z[colRows[p]] += colVals[p] * wj;
                }
            }
        }
    }

    private void buildColumns() {
        int d = codes.cols();
        int[] ptr = new int[d + 1];
        for (int row : sel) {
            for (int p = codes.rowPtr()[row]; p < codes.rowPtr()[row + 1]; p++) {
                ptr[codes.idx()[p] + 1]++;
            }
        }
        for (int j = 0; j < d; j++) {
            ptr[j + 1] += ptr[j];
        }
        int[] fill = java.util.Arrays.copyOf(ptr, d);
        int[] rows = new int[ptr[d]];
        float[] vals = new float[ptr[d]];
        for (int r = 0; r < sel.length; r++) {
            int row = sel[r];
            int previous = -1;
            for (int p = codes.rowPtr()[row]; p < codes.rowPtr()[row + 1]; p++) {
                int j = codes.idx()[p];
                if (j <= previous) {
                    throw new IllegalArgumentException("code row " + row + " does not store its latents in ascending order");
                }
                previous = j;
                rows[fill[j]] = r;
                vals[fill[j]++] = codes.val()[p];
            }
        }
        colPtr = ptr;
        colRows = rows;
        colVals = vals;
    }
}
