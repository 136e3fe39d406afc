package dev.atmsae.arch;

import dev.atmsae.core.Philox;

/** Random, non-zero, non-centred rows from Philox (test stream 120), for tests that need plain batches. */
final class ExportLikeData {
    private ExportLikeData() {
    }

    static float[] rows(int rows, int d, long batchIndex) {
        float[] out = new float[rows * d];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (Philox.gaussian(batchIndex, 120, i) + 0.2 * (i % d) / d);
        }
        return out;
    }
}
