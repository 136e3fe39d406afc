package dev.atmsae.engine.cuda;

import jcuda.driver.CUstream;

/** A JCuda stream whose raw handle can be handed to cuBLAS ({@code cublasSetStream_v2}) through FFM. */
final class RawStream extends CUstream {
    long address() {
        return getNativePointer();
    }
}
