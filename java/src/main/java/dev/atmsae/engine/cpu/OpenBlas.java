package dev.atmsae.engine.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * OpenBLAS's {@code cblas_sgemm} called through FFM on the tensors' own off-heap memory (no copies). The library is
 * loaded once per process into the global arena; its thread count is process-global, so every call first sets it to
 * this engine's count when another engine changed it.
 */
final class OpenBlas implements DenseBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    private static final String[] LIBRARY_NAMES = {"libopenblas.so.0", "libopenblas.so"};

    /** The loaded library, or null when absent (checked once). */
    private static final Bindings BINDINGS = Bindings.load();
    private static int currentThreads = -1;

    private final int threads;

    private record Bindings(MethodHandle sgemm, MethodHandle setNumThreads, String config) {
        static Bindings load() {
            Linker linker = Linker.nativeLinker();
            for (String name : LIBRARY_NAMES) {
                SymbolLookup lookup;
                try {
                    lookup = SymbolLookup.libraryLookup(name, Arena.global());
                } catch (IllegalArgumentException notInstalled) {
                    continue;
                }
                Optional<MemorySegment> gemm = lookup.find("cblas_sgemm");
                Optional<MemorySegment> setThreads = lookup.find("openblas_set_num_threads");
                if (gemm.isEmpty() || setThreads.isEmpty()) {
                    continue;
                }
                MethodHandle sgemm = linker.downcallHandle(gemm.get(), FunctionDescriptor.ofVoid(
                        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT,
                        ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT));
                MethodHandle set = linker.downcallHandle(setThreads.get(), FunctionDescriptor.ofVoid(JAVA_INT));
                String config = "OpenBLAS";
                Optional<MemorySegment> getConfig = lookup.find("openblas_get_config");
                if (getConfig.isPresent()) {
                    try {
                        MemorySegment s = (MemorySegment) linker.downcallHandle(getConfig.get(),
                                FunctionDescriptor.of(ADDRESS)).invokeExact();
                        config = s.reinterpret(256).getString(0);
                    } catch (Throwable ignored) {
                        // the version string is cosmetic
                    }
                }
                return new Bindings(sgemm, set, config);
            }
            return null;
        }
    }

    private OpenBlas(int threads) {
        this.threads = threads;
    }

    /** OpenBLAS for an engine with {@code threads} threads, or null when the library is not installed. */
    static OpenBlas tryLoad(int threads) {
        return BINDINGS == null ? null : new OpenBlas(threads);
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b,
                      float beta, CpuTensor c) {
        if (m == 0 || n == 0) {
            return;
        }
        useThreads();
        try {
            BINDINGS.sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                    alpha, a.segment(), Math.max(1, a.cols()), b.segment(), Math.max(1, b.cols()), beta,
                    c.segment(), Math.max(1, c.cols()));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    private void useThreads() {
        synchronized (OpenBlas.class) {
            if (currentThreads != threads) {
                try {
                    BINDINGS.setNumThreads.invokeExact(threads);
                } catch (Throwable t) {
                    throw new IllegalStateException("openblas_set_num_threads failed", t);
                }
                currentThreads = threads;
            }
        }
    }

    @Override
    public String describe() {
        return BINDINGS.config.trim() + " via FFM";
    }
}
