package dev.atmsae.engine.cuda;

import static jcuda.driver.JCudaDriver.cuMemFree;

import dev.atmsae.engine.Tensor;

/** A tensor in device memory, owned by the {@link CudaEngine} that allocated it; close() frees it once. */
final class CudaTensor implements Tensor {
    final CudaEngine owner;
    final DevPtr ptr;
    private final int rows;
    private final int cols;
    private final DType dtype;
    private boolean closed;

    CudaTensor(CudaEngine owner, DevPtr ptr, int rows, int cols, DType dtype) {
        this.owner = owner;
        this.ptr = ptr;
        this.rows = rows;
        this.cols = cols;
        this.dtype = dtype;
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

    long address() {
        return ptr.address();
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (owner.isClosed()) {
                return;   // the engine released its context, and the device memory went with it
            }
            owner.makeCurrent();
            cuMemFree(ptr);
        }
    }

    @Override
    public String toString() {
        return "CudaTensor[" + rows + "x" + cols + " " + dtype + "]";
    }
}
