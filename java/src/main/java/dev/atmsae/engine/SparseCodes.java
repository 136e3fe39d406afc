package dev.atmsae.engine;

/**
 * Sparse latent codes of a batch in CSR form, all three tensors in engine memory:
 * {@code rowPtr} I32 [1, B+1], {@code idx} I32 [1, capacity], {@code val} F32 [1, capacity].
 * Row b's active latents are {@code idx[rowPtr[b] .. rowPtr[b+1])} with values {@code val[...]}.
 * TopK writes exactly k entries per row ({@code rowPtr[b] = b·k}); BatchTopK a variable number (total ≤ capacity).
 * Entries may hold a value of 0 (a TopK pick whose pre-activation was ≤ 0 after ReLU); decode treats them as absent.
 */
public record SparseCodes(Tensor rowPtr, Tensor idx, Tensor val, int batch, int capacity) implements AutoCloseable {
    public static SparseCodes allocate(Engine engine, int batch, int capacity) {
        return new SparseCodes(engine.allocI32(1, batch + 1), engine.allocI32(1, capacity),
                engine.allocF32(1, capacity), batch, capacity);
    }

    @Override
    public void close() {
        rowPtr.close();
        idx.close();
        val.close();
    }
}
