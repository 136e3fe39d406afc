package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;

/**
 * gW_i += c_i·w_i for every row i of an [n, d] matrix, expressed with the existing sparse-decode backward kernel:
 * a "diagonal" code batch of n rows whose row i holds latent i with value c_i, run against gXhat = w, accumulates
 * exactly c_i·w_i into row i (its gVal output, ⟨w_i, w_i⟩, is discarded). This keeps the engine seam unchanged for the
 * one place that needs a per-row scale (ReLU's ∂(λ·f_i·‖d_i‖)/∂d_i). Cost O(n·d).
 */
final class RowScaler implements AutoCloseable {
    private final Engine engine;
    private final SparseCodes diagonal;
    private final Tensor discard;

    RowScaler(Engine engine, int rows) {
        this.engine = engine;
        this.diagonal = SparseCodes.allocate(engine, rows, rows);
        this.discard = engine.allocF32(1, rows);
        int[] ptr = new int[rows + 1];
        int[] idx = new int[rows];
        for (int i = 0; i < rows; i++) {
            ptr[i + 1] = i + 1;
            idx[i] = i;
        }
        engine.upload(diagonal.rowPtr(), ptr);
        engine.upload(diagonal.idx(), idx);
    }

    /** gW_i += c_i·w_i. */
    void addScaledRows(float[] c, Tensor w, Tensor gW) {
        engine.upload(diagonal.val(), c);
        engine.sparseDecodeBackward(diagonal, w, w, discard, gW);
    }

    @Override
    public void close() {
        diagonal.close();
        discard.close();
    }
}
