package dev.atmsae.engine.cpu;

import dev.atmsae.engine.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A tensor of the CPU engine: one 64-byte-aligned off-heap segment in its own shared arena, so that {@link #close()}
 * frees exactly this tensor's memory and any later access fails with an exception instead of reading freed memory.
 * Shared (not confined) because the engine's worker threads read and write it.
 */
final class CpuTensor implements Tensor {
    private final int rows;
    private final int cols;
    private final DType dtype;
    private final Arena arena;
    private final MemorySegment segment;
    private boolean closed;

    CpuTensor(int rows, int cols, DType dtype) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative tensor shape [" + rows + ", " + cols + "]");
        }
        this.rows = rows;
        this.cols = cols;
        this.dtype = dtype;
        this.arena = Arena.ofShared();
        // Arena.allocate zero-fills, which is the allocF32/allocI32 contract. At least 4 bytes so that empty tensors
        // still own a real segment.
        this.segment = arena.allocate(Math.max(4L, (long) rows * cols * 4L), 64);
    }

    /** The tensor's memory, exactly {@link #bytes()} long. */
    MemorySegment segment() {
        if (closed) {
            throw new IllegalStateException("tensor [" + rows + ", " + cols + "] used after close()");
        }
        return segment;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "CpuTensor[" + dtype + " " + rows + "x" + cols + "]";
    }
}
