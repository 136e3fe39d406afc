package dev.atmsae.api;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;

/**
 * Where an {@link Sae}, a {@link Training} or an {@link Evaluation} runs its math: the CPU engine (OpenBLAS through
 * the FFM API when installed, else pure Java; vectorised kernels) or the CUDA engine (GPU 0, float32). Immutable and
 * thread-safe; a device description opens a fresh engine for each object that uses it.
 */
public final class Device {
    private enum Kind { CPU, CUDA, AUTO }

    private final Kind kind;
    private final int threads;

    private Device(Kind kind, int threads) {
        this.kind = kind;
        this.threads = threads;
    }

    /**
     * The CPU engine on all available processors.
     *
     * @return the device
     */
    public static Device cpu() {
        return new Device(Kind.CPU, Runtime.getRuntime().availableProcessors());
    }

    /**
     * The CPU engine on {@code threads} worker threads.
     *
     * @param threads worker threads, at least 1
     * @return the device
     * @throws IllegalArgumentException if {@code threads} is below 1
     */
    public static Device cpu(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        return new Device(Kind.CPU, threads);
    }

    /**
     * The CUDA engine on GPU 0. Opening it throws {@link AtmsaeException} ("--engine cuda: reason") when no usable
     * driver, device or kernel image is present.
     *
     * @return the device
     */
    public static Device cuda() {
        return new Device(Kind.CUDA, 0);
    }

    /**
     * CUDA when it can run here, else the CPU engine on all processors.
     *
     * @return the device
     */
    public static Device auto() {
        return new Device(Kind.AUTO, Runtime.getRuntime().availableProcessors());
    }

    /** Opens a new engine; the caller closes it. */
    Engine open() {
        return Boundary.call(() -> switch (kind) {
            case CPU -> Engines.cpu(threads, false);
            case CUDA -> Engines.cuda();
            case AUTO -> Engines.auto(threads);
        });
    }

    /** Where an engine this device opened runs, e.g. "cpu (4 threads)" or "cuda" (what {@link #auto()} chose). */
    String describe(Engine engine) {
        return engine.name().equals("cuda") ? "cuda" : "cpu" + threadCount();
    }

    private String threadCount() {
        return " (" + threads + (threads == 1 ? " thread)" : " threads)");
    }

    /** The engine name the command line's {@code --engine} takes ("cpu", "cuda" or "auto"). */
    String cliName() {
        return kind.name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * A short description, e.g. {@code "cpu (4 threads)"}, {@code "auto (4 threads)"} or {@code "cuda"}.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return kind == Kind.CUDA ? "cuda" : cliName() + threadCount();
    }
}
