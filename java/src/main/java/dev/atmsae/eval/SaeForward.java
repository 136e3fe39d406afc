package dev.atmsae.eval;

import dev.atmsae.io.SaeWeights;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Plain-Java reference forward pass of an exported SAE ({@link SaeWeights}, saelens-format.md semantics), float64
 * accumulation. Evaluation code uses it so that metrics never depend on an engine's kernels.
 *
 * <p>h = (x − b_dec)·W_enc + b_enc; standard: f = ReLU(h); topk: f = ReLU(TopK_k(h)); jumprelu: f = ReLU(h)·1[h &gt; θ].
 * Encoding returns sparse rows (only f &gt; 0 kept) because latent codes of real SAEs are sparse and d_sae × N dense
 * would not fit in memory for realistic probe sets.
 */
public final class SaeForward {
    private SaeForward() {
    }

    /**
     * Latent codes in CSR form: row r's active latents are {@code idx[rowPtr[r] .. rowPtr[r+1])} (ascending) with
     * values {@code val[...]}, all strictly positive.
     */
    public record Codes(int rows, int cols, int[] rowPtr, int[] idx, float[] val) {
        /** Dense copy of one row. */
        public double[] denseRow(int r) {
            double[] out = new double[cols];
            for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
                out[idx[p]] = val[p];
            }
            return out;
        }

        /** Activation of latent {@code col} in row {@code r} (0 when inactive); binary search over the row. */
        public double get(int r, int col) {
            int p = Arrays.binarySearch(idx, rowPtr[r], rowPtr[r + 1], col);
            return p >= 0 ? val[p] : 0.0;
        }

        /**
         * Dense [rows.length, cols.length] matrix of the selected rows and columns (row-major). One pass over each
         * selected row's active entries through a latent → output-column map (a lookup per entry, not a search per
         * cell); a latent selected twice fills both columns.
         */
        public double[] gather(int[] rowsSel, int[] colsSel) {
            int k = colsSel.length;
            int[] firstColumn = new int[cols];
            int[] nextColumn = new int[k]; // further output columns of the same latent, -1 ends the chain
            Arrays.fill(firstColumn, -1);
            for (int b = k - 1; b >= 0; b--) {
                nextColumn[b] = firstColumn[colsSel[b]];
                firstColumn[colsSel[b]] = b;
            }
            double[] out = new double[rowsSel.length * k];
            for (int a = 0; a < rowsSel.length; a++) {
                int r = rowsSel[a];
                for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
                    for (int b = firstColumn[idx[p]]; b >= 0; b = nextColumn[b]) {
                        out[a * k + b] = val[p];
                    }
                }
            }
            return out;
        }
    }

    /** Pre-activations h of one row (float64). */
    public static double[] preActivation(SaeWeights sae, float[] x, int xOffset) {
        int dIn = sae.dIn(), dSae = sae.dSae();
        float[] wEnc = sae.wEnc();
        double[] h = new double[dSae];
        for (int j = 0; j < dSae; j++) {
            h[j] = sae.bEnc()[j];
        }
        for (int i = 0; i < dIn; i++) {
            double xi = (double) x[xOffset + i] - sae.bDec()[i];
            if (xi == 0.0) {
                continue;
            }
            int base = i * dSae;
            for (int j = 0; j < dSae; j++) {
                h[j] += xi * wEnc[base + j];
            }
        }
        return h;
    }

    /** Dense latent activations f of one row. */
    public static double[] encodeRow(SaeWeights sae, float[] x, int xOffset) {
        double[] h = preActivation(sae, x, xOffset);
        switch (sae.architecture()) {
            case "standard" -> {
                for (int j = 0; j < h.length; j++) {
                    h[j] = Math.max(h[j], 0.0);
                }
            }
            case "jumprelu" -> {
                float[] theta = sae.threshold();
                for (int j = 0; j < h.length; j++) {
                    h[j] = (h[j] > theta[j] && h[j] > 0) ? h[j] : 0.0;
                }
            }
            case "topk" -> keepTopK(h, sae.k());
            default -> throw new IllegalArgumentException("unknown SAE architecture: " + sae.architecture());
        }
        return h;
    }

    /** Keeps the k largest entries (ties at the k-th value broken by lower index), then ReLU. O(d_sae) per row. */
    private static void keepTopK(double[] h, int k) {
        if (k <= 0 || k >= h.length) {
            for (int j = 0; j < h.length; j++) {
                h[j] = Math.max(h[j], 0.0);
            }
            return;
        }
        double kth = kthLargest(h.clone(), k);
        int above = 0;
        for (double v : h) {
            above += v > kth ? 1 : 0;
        }
        int tiesLeft = k - above;
        for (int j = 0; j < h.length; j++) {
            boolean keep = h[j] > kth || (h[j] == kth && tiesLeft-- > 0);
            h[j] = keep ? Math.max(h[j], 0.0) : 0.0;
        }
    }

    /** The k-th largest value (1-based) by quickselect with median-of-three pivots; permutes {@code a}. */
    static double kthLargest(double[] a, int k) {
        int lo = 0, hi = a.length - 1, target = k - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            double pivot = median(a[lo], a[mid], a[hi]);
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] > pivot) {
                    i++;
                }
                while (a[j] < pivot) {
                    j--;
                }
                if (i <= j) {
                    double t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return a[target];
            }
        }
        return a[target];
    }

    private static double median(double a, double b, double c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }

    /** Encodes {@code rows} rows of row-major {@code x} [rows, dIn], in parallel over rows. */
    public static Codes encode(SaeWeights sae, float[] x, int rows) {
        if ((long) rows * sae.dIn() != x.length) {
            throw new IllegalArgumentException("encode: x holds " + x.length + " values, expected " + rows + "x" + sae.dIn());
        }
        int[][] rowIdx = new int[rows][];
        float[][] rowVal = new float[rows][];
        IntStream.range(0, rows).parallel().forEach(r -> {
            double[] f = encodeRow(sae, x, r * sae.dIn());
            int nnz = 0;
            for (double v : f) {
                if (v > 0) {
                    nnz++;
                }
            }
            int[] ids = new int[nnz];
            float[] vals = new float[nnz];
            int p = 0;
            for (int j = 0; j < f.length; j++) {
                if (f[j] > 0) {
                    ids[p] = j;
                    vals[p++] = (float) f[j];
                }
            }
            rowIdx[r] = ids;
            rowVal[r] = vals;
        });
        int[] rowPtr = new int[rows + 1];
        for (int r = 0; r < rows; r++) {
            rowPtr[r + 1] = rowPtr[r] + rowIdx[r].length;
        }
        int[] idx = new int[rowPtr[rows]];
        float[] val = new float[rowPtr[rows]];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(rowIdx[r], 0, idx, rowPtr[r], rowIdx[r].length);
            System.arraycopy(rowVal[r], 0, val, rowPtr[r], rowVal[r].length);
        }
        return new Codes(rows, sae.dSae(), rowPtr, idx, val);
    }

    /** Reconstruction x̂ = f·W_dec + b_dec of one dense latent row. */
    public static double[] decodeRow(SaeWeights sae, double[] f) {
        int dIn = sae.dIn();
        double[] out = new double[dIn];
        for (int i = 0; i < dIn; i++) {
            out[i] = sae.bDec()[i];
        }
        for (int j = 0; j < f.length; j++) {
            if (f[j] == 0) {
                continue;
            }
            int base = j * dIn;
            for (int i = 0; i < dIn; i++) {
                out[i] += f[j] * sae.wDec()[base + i];
            }
        }
        return out;
    }

    /** Euclidean norms of the decoder rows ‖d_i‖. */
    public static double[] decoderNorms(SaeWeights sae) {
        double[] norms = new double[sae.dSae()];
        for (int j = 0; j < sae.dSae(); j++) {
            double s = 0;
            for (int i = 0; i < sae.dIn(); i++) {
                double v = sae.wDec()[j * sae.dIn() + i];
                s += v * v;
            }
            norms[j] = Math.sqrt(s);
        }
        return norms;
    }

    /** cos(d_i, u) for every decoder row, with u of any length (0 for a zero row). */
    public static double[] decoderCosines(SaeWeights sae, double[] u) {
        double un = 0;
        for (double v : u) {
            un += v * v;
        }
        un = Math.sqrt(un);
        double[] norms = decoderNorms(sae);
        double[] cos = new double[sae.dSae()];
        for (int j = 0; j < sae.dSae(); j++) {
            double dot = 0;
            for (int i = 0; i < sae.dIn(); i++) {
                dot += sae.wDec()[j * sae.dIn() + i] * u[i];
            }
            cos[j] = (norms[j] == 0 || un == 0) ? 0 : dot / (norms[j] * un);
        }
        return cos;
    }
}
