package dev.atmsae.eval;

import dev.atmsae.arch.SaeInference;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.SaeWeights;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Latent codes of many rows computed on an engine (BLAS / CUDA) rather than by the float64 reference
 * {@link SaeForward#encode}: the absorption and sparse-probing evaluations encode tens of thousands of probe rows per
 * SAE, which the reference does ~50× slower. The result has the same CSR shape as the reference's; values agree to
 * float32 precision (tested against {@link SaeForward}).
 */
public final class EngineCodes {
    private static final int CHUNK_ROWS = 4096;

    private EngineCodes() {
    }

    /** Codes of {@code rows} rows of {@code x} (row-major [rows, d_in]); only strictly positive activations are kept. */
    public static SaeForward.Codes encode(Engine engine, SaeWeights sae, float[] x, int rows) {
        int d = sae.dIn();
        int n = sae.dSae();
        if ((long) rows * d != x.length) {
            throw new IllegalArgumentException("encode: x holds " + x.length + " values, expected " + rows + "x" + d);
        }
        int[] rowPtr = new int[rows + 1];
        int[] idx = new int[Math.max(16, rows * 8)];
        float[] val = new float[idx.length];
        int nnz = 0;
        MemorySegment host = MemorySegment.ofArray(x);
        try (SaeInference inference = new SaeInference(engine, sae)) {
            for (int start = 0; start < rows; start += CHUNK_ROWS) {
                int count = Math.min(CHUNK_ROWS, rows - start);
                float[] dense;
                try (Tensor chunk = engine.allocF32(count, d)) {
                    engine.upload(chunk, host.asSlice(4L * start * d, 4L * count * d));
                    inference.run(chunk);
                    dense = inference.codesToHost();
                }
                for (int r = 0; r < count; r++) {
                    int base = r * n;
                    for (int j = 0; j < n; j++) {
                        float v = dense[base + j];
                        if (v > 0) {
                            if (nnz == idx.length) {
                                idx = Arrays.copyOf(idx, idx.length * 2);
                                val = Arrays.copyOf(val, val.length * 2);
                            }
                            idx[nnz] = j;
                            val[nnz++] = v;
                        }
                    }
                    rowPtr[start + r + 1] = nnz;
                }
            }
        }
        return new SaeForward.Codes(rows, n, rowPtr, Arrays.copyOf(idx, nnz), Arrays.copyOf(val, nnz));
    }
}
