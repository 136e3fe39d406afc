package dev.atmsae.eval.synth;

import java.util.Arrays;

/**
 * Minimum-cost assignment (Kuhn–Munkres with potentials, O(n²·m)) of n rows to m ≥ n columns. Used to match true
 * features to SAE latents by |cos| for MCC.
 */
public final class Hungarian {
    private Hungarian() {
    }

    /** Returns, for each row, the assigned column; {@code cost} is row-major [n, m] with n ≤ m. */
    public static int[] assign(double[] cost, int n, int m) {
        if (n > m) {
            throw new IllegalArgumentException("Hungarian: more rows (" + n + ") than columns (" + m + ")");
        }
        double[] u = new double[n + 1], v = new double[m + 1];
        int[] p = new int[m + 1], way = new int[m + 1];
        for (int i = 1; i <= n; i++) {
            p[0] = i;
            int j0 = 0;
            double[] minv = new double[m + 1];
            Arrays.fill(minv, Double.POSITIVE_INFINITY);
            boolean[] used = new boolean[m + 1];
            do {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = Double.POSITIVE_INFINITY;
                for (int j = 1; j <= m; j++) {
                    if (!used[j]) {
                        double cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                        if (cur < minv[j]) {
                            minv[j] = cur;
                            way[j] = j0;
                        }
                        if (minv[j] < delta) {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }
                for (int j = 0; j <= m; j++) {
                    if (used[j]) {
                        u[p[j]] += delta;
                        v[j] -= delta;
                    } else {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            } while (p[j0] != 0);
            do {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        int[] rowToCol = new int[n];
        for (int j = 1; j <= m; j++) {
            if (p[j] != 0) {
                rowToCol[p[j] - 1] = j - 1;
            }
        }
        return rowToCol;
    }
}
