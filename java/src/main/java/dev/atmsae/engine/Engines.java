package dev.atmsae.engine;

import dev.atmsae.engine.cpu.CpuEngine;

/** Creates engines. The CUDA side adds {@code cuda(..)} and {@code auto(..)} factories below the CPU ones. */
public final class Engines {
    private Engines() {
    }

    /** The CPU engine on all available processors, with OpenBLAS when installed. */
    public static Engine cpu() {
        return new CpuEngine();
    }

    /**
     * The CPU engine with {@code threads} threads; {@code forcePureJava} selects the pure-Java BLAS even when
     * OpenBLAS is installed.
     */
    public static Engine cpu(int threads, boolean forcePureJava) {
        return new CpuEngine(threads, forcePureJava);
    }

    // ---------------------------------------------------------------- CUDA / auto (added by the CUDA engine)

    /**
     * Placeholder until the CUDA engine lands: probes for the driver through FFM and explains why CUDA cannot be used.
     * The CUDA engine replaces this method with one that returns the engine when a device is usable.
     */
    public static Engine cuda() {
        throw new dev.atmsae.util.UserError("--engine cuda: " + cudaUnavailableReason());
    }

    /** CUDA when usable, else the CPU engine with {@code threads} threads. */
    public static Engine auto(int threads) {
        return cpu(threads, false);
    }

    /** Why CUDA cannot be used here (one line). */
    static String cudaUnavailableReason() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.SymbolLookup.libraryLookup("libcuda.so.1", arena);
        } catch (IllegalArgumentException e) {
            return "no CUDA driver (libcuda.so.1 not found)";
        }
        return "the CUDA engine is not part of this build";
    }
}
