package dev.atmsae.engine.cuda;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The emulated CUDA device (native-build/emu, cuda/README.md): a host libcuda.so.1 and libcublas.so.13 that run the
 * engine's unchanged kernels on the CPU with CUDA's execution semantics, for testing the CUDA path where no GPU is.
 * Used only when the user points at it with {@link #ENV}; {@code --engine auto} never picks it.
 */
public final class CudaEmulator {
    /** The directory of the emulated libcuda.so.1 and libcublas.so.13 (e.g. native-build/out/emu/plain). */
    public static final String ENV = "ATMSAE_CUDA_EMULATOR";
    /** The symbol only the emulated driver exports. */
    static final String MARKER = "atmsaeEmulator";
    static final String DRIVER = "libcuda.so.1";
    static final String CUBLAS = "libcublas.so.13";

    private CudaEmulator() {
    }

    /** The directory {@link #ENV} names, if it is set. */
    public static Optional<Path> directory() {
        String dir = System.getenv(ENV);
        return dir == null || dir.isBlank() ? Optional.empty() : Optional.of(Path.of(dir).toAbsolutePath());
    }
}
