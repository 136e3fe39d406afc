package dev.atmsae.train;

import dev.atmsae.core.Philox;
import dev.atmsae.data.NpyWriter;
import java.nio.file.Path;

/** Small synthetic activations for trainer tests: sparse sums of random directions plus noise, never all zeros. */
public final class TrainTestData {
    private TrainTestData() {
    }

    /** rows × d values: each row mixes 3 of 24 fixed directions with random positive weights, plus an offset. */
    public static float[] sparseMixture(int rows, int d, long seed) {
        int features = 24;
        float[] dirs = new float[features * d];
        for (int i = 0; i < dirs.length; i++) {
            dirs[i] = (float) Philox.gaussian(seed, Philox.STREAM_SYNTH, i);
        }
        float[] x = new float[rows * d];
        long idx = dirs.length;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                x[r * d + j] = 0.5f + 0.05f * (float) Philox.gaussian(seed, Philox.STREAM_SYNTH, idx++);
            }
            for (int t = 0; t < 3; t++) {
                int f = (int) (Philox.uniform(seed, Philox.STREAM_SYNTH, idx++) * features);
                float w = (float) (0.5 + Philox.uniform(seed, Philox.STREAM_SYNTH, idx++) * 2);
                for (int j = 0; j < d; j++) {
                    x[r * d + j] += w * dirs[f * d + j];
                }
            }
        }
        return x;
    }

    /** Writes {@link #sparseMixture} as a .npy shard. */
    public static Path writeShard(Path file, int rows, int d, long seed) {
        NpyWriter.write(file, sparseMixture(rows, d, seed), rows, d);
        return file;
    }
}
