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
}
