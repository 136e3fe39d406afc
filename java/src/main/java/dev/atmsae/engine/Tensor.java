package dev.atmsae.engine;

/**
 * A row-major 2-D array that lives in an engine's memory (off-heap on the CPU, device memory on CUDA).
 * Vectors are tensors with one row. The engine that allocated a tensor owns it; {@link #close()} frees it.
 * Java code never reads tensor contents directly: it asks the engine to {@code download} them.
 */
public interface Tensor extends AutoCloseable {
    enum DType { F32, I32 }

    int rows();

    int cols();

    DType dtype();

    default long size() {
        return (long) rows() * cols();
    }

    default long bytes() {
        return size() * 4L;
    }

    @Override
    void close();
}
