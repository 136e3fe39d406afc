package dev.atmsae.engine;

import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.engine.cuda.CudaAvailability;
import dev.atmsae.engine.cuda.CudaEngine;
import dev.atmsae.engine.cuda.Precision;

/** Creates engines. The CUDA side adds {@code cuda(..)} and {@code auto(..)} factories below the CPU ones. */
public final class Engines {
    private Engines() {
    }

    /** The CPU engine on all available processors, with the BLAS {@code ATMSAE_BLAS} picks (bundled OpenBLAS). */
    public static Engine cpu() {
        return new CpuEngine();
    }

    /**
     * The CPU engine with {@code threads} threads; {@code forcePureJava} selects the pure-Java BLAS whatever
     * {@code ATMSAE_BLAS} says.
     */
    public static Engine cpu(int threads, boolean forcePureJava) {
        return new CpuEngine(threads, forcePureJava);
    }

    // ---------------------------------------------------------------- CUDA / auto (added by the CUDA engine)

    /**
     * The CUDA engine on GPU 0 with float32 products. Throws {@link dev.atmsae.util.UserError} "--engine cuda: reason"
     * (no driver, no device, no fatbin in the jar, no cuBLAS) when CUDA cannot run here.
     */
    public static Engine cuda() {
        return cuda(Precision.FP32);
    }

    /** The CUDA engine on GPU 0 with the given product precision (weights stay float32). */
    public static Engine cuda(Precision precision) {
        return CudaEngine.open(0, precision);
    }

    /**
     * CUDA when {@link CudaAvailability#probe()} says a GPU can run it, else the CPU engine. Never the emulated
     * device: it exists to test the CUDA path, and is used only through {@code --engine cuda}.
     */
    public static Engine auto() {
        return autoPicksCuda() ? cuda() : cpu();
    }

    /** CUDA on a GPU when usable, else the CPU engine with {@code threads} threads. */
    public static Engine auto(int threads) {
        return autoPicksCuda() ? cuda() : cpu(threads, false);
    }

    private static boolean autoPicksCuda() {
        CudaAvailability.Result r = CudaAvailability.probe();
        return r.available() && !r.emulated();
    }

    /** Why {@link #auto()} would not pick CUDA here ("available" when it would). */
    public static String cudaStatus() {
        CudaAvailability.Result r = CudaAvailability.probe();
        if (r.available() && r.emulated()) {
            return "emulated CUDA device only (--engine cuda uses it, --engine auto does not): " + r.device();
        }
        return r.available() ? "available: " + r.device() : r.reason();
    }
}
