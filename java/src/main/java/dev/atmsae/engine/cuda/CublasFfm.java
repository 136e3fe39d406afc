package dev.atmsae.engine.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * cuBLAS bound through Panama FFM (JCublas2 needs libcublas.so.12 and a CUDA 13 host has .so.13; stack.md §4).
 * Device pointers travel as raw {@code long}s, ABI-identical to {@code void*} on x86-64. Row-major products use the
 * column-major swap: row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e. gemm(opB, opA, N, M, K, B, A).
 *
 * <p>The library is loaded once per process into the global arena and never unloaded: cuBLAS's built-in runtime binds
 * itself to the driver on first use, and a driver or exit-time callback into an unloaded libcublas would crash the
 * process. An instance owns only a handle (created in the constructor, destroyed by {@link #close()}).
 */
public final class CublasFfm implements AutoCloseable {
    /** Absolute path of libcublas.so.1x, or a directory holding it. Checked before anything else. */
    public static final String ENV_PATH = "ATMSAE_CUBLAS";
    static final List<String> SONAMES = List.of("libcublas.so.13", "libcublas.so.12");

    private static final int OP_N = 0;
    private static final int OP_T = 1;
    private static final int CUDA_R_32F = 0;
    private static final int CUBLAS_GEMM_DEFAULT = -1;
    private static final int CUBLAS_DEFAULT_MATH = 0;
    private static final int CUBLAS_TF32_TENSOR_OP_MATH = 3;

    /** Where a loadable cuBLAS was found, and everything that was tried on the way (for error messages). */
    public record Location(Optional<String> found, List<String> searched) {
    }

    /** Libraries already loaded, by the name or path they were found under (never unloaded). */
    private static final Map<String, SymbolLookup> LOADED = new ConcurrentHashMap<>();

    private final Arena arena = Arena.ofShared();
    private final MethodHandle gemmEx;
    private final MethodHandle setStream;
    private final MethodHandle destroy;
    private final MethodHandle setMathMode;
    private final MemorySegment handle;
    private final MemorySegment alphaBeta;
    private final String library;
    private final int version;
    private int mathMode = -1;

    /**
     * Loads cuBLAS and creates a handle bound to {@code streamAddress}. The CUDA context the engine uses must be
     * current on the calling thread (cuBLAS's runtime picks up the current context).
     */
    public CublasFfm(long streamAddress) {
        this(streamAddress, located());
    }

    /** A handle from the cuBLAS (or an ABI-compatible stand-in, in tests) at {@code library}, loaded once. */
    CublasFfm(long streamAddress, String library) {
        this.library = library;
        SymbolLookup lib = loadOnce(library);
        Linker linker = Linker.nativeLinker();
        MethodHandle create = linker.downcallHandle(lib.findOrThrow("cublasCreate_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle getVersion = linker.downcallHandle(lib.findOrThrow("cublasGetVersion_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setStream = linker.downcallHandle(lib.findOrThrow("cublasSetStream_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        destroy = linker.downcallHandle(lib.findOrThrow("cublasDestroy_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setMathMode = linker.downcallHandle(lib.findOrThrow("cublasSetMathMode"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        // Short asynchronous call: critical(false) skips the thread-state transition overhead.
        gemmEx = linker.downcallHandle(lib.findOrThrow("cublasGemmEx"), FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS,
                JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.critical(false));
        try {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) create.invokeExact(out), "cublasCreate_v2");
            handle = out.get(ADDRESS, 0);
            MemorySegment ver = arena.allocate(JAVA_INT);
            check((int) getVersion.invokeExact(handle, ver), "cublasGetVersion_v2");
            version = ver.get(JAVA_INT, 0);
            check((int) setStream.invokeExact(handle, streamAddress), "cublasSetStream_v2");
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IllegalStateException("cuBLAS initialisation failed", t);
        }
        alphaBeta = arena.allocate(JAVA_FLOAT, 2);
    }

    public String library() {
        return library;
    }

    /** cuBLAS version as an integer, e.g. 130100 for 13.1.0. */
    public int version() {
        return version;
    }

    /**
     * Row-major C[M, N] = alpha·op(A)·op(B) + beta·C with op(A) [M, K], op(B) [K, N]; lda/ldb/ldc are the row-major
     * row lengths (column counts) of the stored matrices.
     */
    public void gemmRowMajor(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                             long b, int ldb, float beta, long c, int ldc, Precision precision) {
        alphaBeta.setAtIndex(JAVA_FLOAT, 0, alpha);
        alphaBeta.setAtIndex(JAVA_FLOAT, 1, beta);
        int status;
        try {
            // TF32 also needs the math mode on some cuBLAS versions for the legacy paths; harmless otherwise.
            int mode = precision == Precision.TF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
            if (mode != mathMode) {
                check((int) setMathMode.invokeExact(handle, mode), "cublasSetMathMode");
                mathMode = mode;
            }
            status = (int) gemmEx.invokeExact(handle, transB ? OP_T : OP_N, transA ? OP_T : OP_N, n, m, k,
                    alphaBeta, b, CUDA_R_32F, ldb, a, CUDA_R_32F, lda,
                    alphaBeta.asSlice(4), c, CUDA_R_32F, ldc, precision.cublasComputeType, CUBLAS_GEMM_DEFAULT);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cublasGemmEx call failed", t);
        }
        check(status, "cublasGemmEx(m=" + m + ", n=" + n + ", k=" + k + ", " + precision + ")");
    }

    /** Destroys the handle; the library stays loaded for the life of the process (see the class comment). */
    @Override
    public void close() {
        try {
            int ignored = (int) destroy.invokeExact(handle);
        } catch (Throwable t) {
            // closing is best effort: the process is usually ending
        } finally {
            arena.close();
        }
    }

    private static void check(int status, String what) {
        if (status != 0) {
            throw new IllegalStateException(what + " failed: cublasStatus_t " + status + " (" + statusName(status) + ")");
        }
    }

    static String statusName(int status) {
        return switch (status) {
            case 0 -> "SUCCESS";
            case 1 -> "NOT_INITIALIZED";
            case 3 -> "ALLOC_FAILED";
            case 7 -> "INVALID_VALUE";
            case 8 -> "ARCH_MISMATCH";
            case 11 -> "MAPPING_ERROR";
            case 13 -> "EXECUTION_FAILED";
            case 14 -> "INTERNAL_ERROR";
            case 15 -> "NOT_SUPPORTED";
            case 16 -> "LICENSE_ERROR";
            default -> "unknown";
        };
    }

    // ------------------------------------------------------------------------------------------------ locating

    /**
     * Finds a loadable libcublas: under {@link CudaEmulator#ENV} the emulated device's and nothing else; otherwise
     * $ATMSAE_CUBLAS, then the bare sonames (ld.so's search), then the NVIDIA wheels of
     * the GPU host's PyTorch venv (not on the loader path; libcublasLt sits beside libcublas and is found through
     * its RUNPATH $ORIGIN), then the CUDA toolkit's usual directories. Loading has no side effect without a GPU.
     */
    public static Location locate() {
        return CudaEmulator.directory().map(dir -> locate(dir.toString(), true))
                .orElseGet(() -> locate(System.getenv(ENV_PATH)));
    }

    /**
     * The search with {@code env} as the value of $ATMSAE_CUBLAS (null: unset). It stops at the first candidate that
     * loads, which stays loaded (the engine uses it next); {@code searched} ends with it.
     */
    static Location locate(String env) {
        return locate(env, false);
    }

    /** The search; {@code only}: $ATMSAE_CUBLAS's candidates alone (the emulated device's cuBLAS, never a real one). */
    private static Location locate(String env, boolean only) {
        List<String> searched = new ArrayList<>();
        List<String> candidates = new ArrayList<>();
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            if (Files.isDirectory(p)) {
                SONAMES.forEach(s -> candidates.add(p.resolve(s).toString()));
            } else {
                candidates.add(env);
            }
        }
        if (!only) {
            candidates.addAll(SONAMES);
            for (Path dir : wheelAndToolkitDirs()) {
                SONAMES.forEach(s -> candidates.add(dir.resolve(s).toString()));
            }
        }
        for (String c : candidates) {
            if (c.startsWith("/") && !Files.isRegularFile(Path.of(c))) {
                searched.add(c);
                continue;
            }
            searched.add(c);
            try {
                loadOnce(c);
                return new Location(Optional.of(c), List.copyOf(searched));
            } catch (IllegalArgumentException e) {
                // not loadable here: try the next candidate
            }
        }
        return new Location(Optional.empty(), List.copyOf(searched));
    }

    private static String located() {
        Location where = locate();
        return where.found().orElseThrow(() -> new IllegalStateException("no cuBLAS: searched " + where.searched()));
    }

    /** Loads {@code nameOrPath} into the global arena the first time; later calls return the same lookup. */
    static SymbolLookup loadOnce(String nameOrPath) {
        return LOADED.computeIfAbsent(nameOrPath, c -> c.startsWith("/")
                ? SymbolLookup.libraryLookup(Path.of(c), Arena.global())
                : SymbolLookup.libraryLookup(c, Arena.global()));
    }

    /** nvidia/{cu13,cublas,cu12}/lib under every site-packages of /opt/torch/.venv, then the toolkit's lib dirs. */
    static List<Path> wheelAndToolkitDirs() {
        List<Path> dirs = new ArrayList<>();
        Path venv = Path.of("/opt/torch/.venv");
        for (String lib : List.of("lib", "lib64")) {
            Path base = venv.resolve(lib);
            if (!Files.isDirectory(base)) {
                continue;
            }
            try (Stream<Path> pythons = Files.list(base)) {
                pythons.filter(p -> p.getFileName().toString().startsWith("python")).sorted().forEach(py -> {
                    for (String pkg : List.of("cu13", "cublas", "cu12")) {
                        dirs.add(py.resolve("site-packages").resolve("nvidia").resolve(pkg).resolve("lib"));
                    }
                });
            } catch (IOException e) {
                // an unreadable venv simply contributes nothing
            }
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        return dirs;
    }
}
