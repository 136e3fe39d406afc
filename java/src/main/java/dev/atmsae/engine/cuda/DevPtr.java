package dev.atmsae.engine.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A JCuda device pointer that also exposes its raw address, which cuBLAS (bound through FFM) takes as a plain
 * 64-bit value. {@code getNativePointer()} is protected in JCuda; a subclass is the reflection-free way to read it.
 */
final class DevPtr extends CUdeviceptr {
    long address() {
        return getNativePointer();
    }
}
