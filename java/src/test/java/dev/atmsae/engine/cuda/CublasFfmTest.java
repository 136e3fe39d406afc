package dev.atmsae.engine.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.core.Philox;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The search for libcublas, and CublasFfm against a stand-in library (src/test/c/cublas_stub.c, built with the host C
 * compiler) whose "device" pointers are host memory: the library stays loaded after close, only handles come and go,
 * and the row-major products land where a row-major reference puts them.
 */
class CublasFfmTest {
    private static Path stub;

    @BeforeAll
    static void buildStub() throws IOException, InterruptedException {
        Path root = NvccTool.repoRoot();
        Path out = root.resolve("java/target/cublas-stub/libcublas.so.13");
        Files.createDirectories(out.getParent());
        try {
            NvccTool.run(List.of("cc", "-shared", "-fPIC", "-O1", "-o", out.toString(),
                    root.resolve("java/src/test/c/cublas_stub.c").toString()), "");
            stub = out;
        } catch (IOException | IllegalStateException e) {
            System.out.println("CublasFfmTest: no cuBLAS stand-in (the stub tests skip): " + e.getMessage());
            stub = null;
        }
    }

    /** Whatever this host has, the search never throws and its list ends where it stopped. */
    @Test
    void locateNeverThrowsAndStopsAtTheFirstLoadableLibrary() {
        CublasFfm.Location where = CublasFfm.locate();
        List<String> searched = where.searched();
        where.found().ifPresentOrElse(lib -> {
            assertTrue(lib.contains("cublas"), lib);
            assertEquals(lib, searched.getLast(), "the search stops at the library it found: " + searched);
        }, () -> {
            assertTrue(searched.containsAll(CublasFfm.SONAMES), searched.toString());
            assertTrue(searched.stream().anyMatch(s -> s.contains("/usr/local/cuda")), searched.toString());
        });
    }

    @Test
    void environmentPathComesFirstAndEndsTheSearch() {
        assumeTrue(stub != null, "no C compiler: cannot build the cuBLAS stand-in");
        for (String env : List.of(stub.toString(), stub.getParent().toString())) {
            CublasFfm.Location where = CublasFfm.locate(env);
            assertEquals(stub.toString(), where.found().orElseThrow(), where.searched().toString());
            assertEquals(List.of(stub.toString()), where.searched());
        }
        CublasFfm.Location missing = CublasFfm.locate("/nonexistent/libcublas.so.13");
        assertEquals("/nonexistent/libcublas.so.13", missing.searched().getFirst());
    }

    @Test
    void closingAHandleKeepsTheLibraryLoaded() throws Throwable {
        assumeTrue(stub != null, "no C compiler: cannot build the cuBLAS stand-in");
        int[] before = counts();
        for (int round = 0; round < 2; round++) {
            try (CublasFfm blas = new CublasFfm(0L, stub.toString())) {
                assertEquals(130100, blas.version());
            }
            assertTrue(Files.readString(Path.of("/proc/self/maps")).contains(stub.toString()),
                    "libcublas was unloaded by close()");
        }
        int[] after = counts();
        assertEquals(2, after[0] - before[0], "handles created");
        assertEquals(2, after[1] - before[1], "handles destroyed");
    }

    /** gemmRowMajor's column-major swap, all four transpose cases, against a float64 row-major reference. */
    @Test
    void rowMajorProductsThroughTheColumnMajorSwap() throws Throwable {
        assumeTrue(stub != null, "no C compiler: cannot build the cuBLAS stand-in");
        int m = 5, n = 7, k = 3;
        long stream = 0;
        try (CublasFfm blas = new CublasFfm(0L, stub.toString()); Arena arena = Arena.ofConfined()) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    float[] a = gauss(m * k, stream), b = gauss(k * n, stream + 100), c = gauss(m * n, stream + 200);
                    stream += 300;
                    MemorySegment sa = arena.allocateFrom(JAVA_FLOAT, a), sb = arena.allocateFrom(JAVA_FLOAT, b);
                    MemorySegment sc = arena.allocateFrom(JAVA_FLOAT, c);
                    blas.gemmRowMajor(ta, tb, m, n, k, 0.5f, sa.address(), ta ? m : k, sb.address(), tb ? k : n,
                            0.25f, sc.address(), n, Precision.TF32);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double s = 0;
                            for (int p = 0; p < k; p++) {
                                s += (double) (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                            }
                            double want = 0.5 * s + 0.25 * c[i * n + j];
                            float got = sc.getAtIndex(JAVA_FLOAT, (long) i * n + j);
                            assertEquals(want, got, 1e-5 * (1 + Math.abs(want)), "ta=" + ta + " tb=" + tb + " C[" + i
                                    + "," + j + "]");
                        }
                    }
                }
            }
            assertEquals(Precision.TF32.cublasComputeType, counts()[2]);
            assertEquals(3, counts()[3], "TF32 sets CUBLAS_TF32_TENSOR_OP_MATH");
        }
    }

    @Test
    void precisionsMapToCublasComputeTypes() {
        assertEquals(68, Precision.FP32.cublasComputeType);   // CUBLAS_COMPUTE_32F
        assertEquals(77, Precision.TF32.cublasComputeType);   // CUBLAS_COMPUTE_32F_FAST_TF32
        assertEquals(75, Precision.BF16.cublasComputeType);   // CUBLAS_COMPUTE_32F_FAST_16BF
        assertEquals("INVALID_VALUE", CublasFfm.statusName(7));
    }

    private static int[] counts() throws Throwable {
        MethodHandle h = Linker.nativeLinker().downcallHandle(
                CublasFfm.loadOnce(stub.toString()).findOrThrow("stub_counts"), FunctionDescriptor.ofVoid(ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT, 4);
            h.invokeExact(out);
            return out.toArray(JAVA_INT);
        }
    }

    private static float[] gauss(int count, long offset) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = (float) Philox.gaussian(5, Philox.STREAM_SYNTH, offset + i);
        }
        return out;
    }
}
