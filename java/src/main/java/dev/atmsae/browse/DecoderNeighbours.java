package dev.atmsae.browse;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.SaeWeights;

/**
 * For every latent, the latents whose decoder rows point the most the same way (largest cos(d_i, d_j), j ≠ i):
 * blocks of the d_sae × d_sae cosine matrix on the engine's GEMM, never the whole matrix at once.
 */
final class DecoderNeighbours {
    private static final int BLOCK = 1024;

    /** {@code latent[i][t]}, {@code cos[i][t]}: latent i's t-th nearest neighbour. */
    record Result(int[][] latent, float[][] cos) {
    }

    private DecoderNeighbours() {
    }

    static Result of(Engine engine, SaeWeights sae, int k) {
        int n = sae.dSae(), d = sae.dIn();
        int keep = Math.min(k, n - 1);
        float[] unit = new float[n * d];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                double v = sae.wDec()[i * d + c];
                s += v * v;
            }
            float inv = s > 0 ? (float) (1 / Math.sqrt(s)) : 0f;
            for (int c = 0; c < d; c++) {
                unit[i * d + c] = sae.wDec()[i * d + c] * inv;
            }
        }
        int[][] latent = new int[n][];
        float[][] cos = new float[n][];
        if (keep < 1) {
            java.util.Arrays.fill(latent, new int[0]);
            java.util.Arrays.fill(cos, new float[0]);
            return new Result(latent, cos);
        }
        try (Tensor all = engine.allocF32(n, d)) {
            engine.upload(all, unit);
            for (int b0 = 0; b0 < n; b0 += BLOCK) {
                int rows = Math.min(BLOCK, n - b0);
                float[] block = new float[rows * n];
                try (Tensor part = engine.allocF32(rows, d); Tensor out = engine.allocF32(rows, n)) {
                    engine.upload(part, java.util.Arrays.copyOfRange(unit, b0 * d, (b0 + rows) * d));
                    engine.gemm(false, true, 1f, part, all, 0f, out);
                    engine.download(out, block);
                }
                final int first = b0;
                java.util.stream.IntStream.range(0, rows).parallel().forEach(r -> {
                    int[] best = new int[keep];
                    float[] bestCos = new float[keep];
                    java.util.Arrays.fill(bestCos, Float.NEGATIVE_INFINITY);
                    int self = first + r;
                    for (int j = 0; j < n; j++) {
                        float c = block[r * n + j];
                        if (j == self || c <= bestCos[keep - 1]) {
                            continue;
                        }
                        int t = keep - 1;
                        while (t > 0 && bestCos[t - 1] < c) {
                            bestCos[t] = bestCos[t - 1];
                            best[t] = best[t - 1];
                            t--;
                        }
                        bestCos[t] = c;
                        best[t] = j;
                    }
                    latent[self] = best;
                    cos[self] = bestCos;
                });
            }
        }
        return new Result(latent, cos);
    }
}
