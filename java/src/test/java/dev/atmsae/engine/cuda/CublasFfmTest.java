package dev.atmsae.engine.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.core.Philox;
import dev.atmsae.gpucheck.EmulatedSuiteMain;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The search for libcublas (against a stand-in library, src/test/c/cublas_stub.c, built with the host C compiler), and
 * CublasFfm on a device — a GPU, or the emulated one in EmulatedCudaSuiteTest: the library stays loaded after close,
 * only handles come and go, the row-major products land where a row-major reference puts them, and cuBLAS's
 * validation reaches the caller.
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

    /** The library cuBLAS was found in stays mapped after handles close; on the emulated device, count them. */
    @Tag(EmulatedSuiteMain.TAG)
    @Test
    void closingAHandleKeepsTheLibraryLoaded() throws Throwable {
        try (CudaEngine engine = openEngine()) {
            String library = CublasFfm.locate().found().orElseThrow();
            int[] before = emulatedCounts(library);
            for (int round = 0; round < 2; round++) {
                try (CublasFfm blas = new CublasFfm(engine.stream().address(), library)) {
                    assertTrue(blas.version() >= 120000, "version " + blas.version());
                }
                assertTrue(Files.readString(Path.of("/proc/self/maps")).contains(Path.of(library).getFileName().toString()),
                        "libcublas was unloaded by close()");
            }
            int[] after = emulatedCounts(library);
            if (after != null) {
                assertEquals(2, after[0] - before[0], "handles created");
                assertEquals(2, after[1] - before[1], "handles destroyed");
            }
        }
    }

    /** gemmRowMajor's column-major swap, all four transpose cases, against a float64 row-major reference. */
    @Tag(EmulatedSuiteMain.TAG)
    @Test
    void rowMajorProductsThroughTheColumnMajorSwap() throws Throwable {
        int m = 5, n = 7, k = 3;
        long stream = 0;
        try (CudaEngine engine = openEngine();
             CublasFfm blas = new CublasFfm(engine.stream().address(), CublasFfm.locate().found().orElseThrow())) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    float[] a = gauss(m * k, stream), b = gauss(k * n, stream + 100), c = gauss(m * n, stream + 200);
                    stream += 300;
                    try (CudaTensor da = upload(engine, ta ? k : m, ta ? m : k, a);
                         CudaTensor db = upload(engine, tb ? n : k, tb ? k : n, b); CudaTensor dc = upload(engine, m, n, c)) {
                        blas.gemmRowMajor(ta, tb, m, n, k, 0.5f, da.address(), ta ? m : k, db.address(), tb ? k : n,
                                0.25f, dc.address(), n, Precision.FP32);
                        float[] got = new float[m * n];
                        engine.download(dc, got);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                double s = 0;
                                for (int p = 0; p < k; p++) {
                                    s += (double) (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                                }
                                double want = 0.5 * s + 0.25 * c[i * n + j];
                                assertEquals(want, got[i * n + j], 1e-5 * (1 + Math.abs(want)), "ta=" + ta + " tb=" + tb
                                        + " C[" + i + "," + j + "]");
                            }
                        }
                    }
                }
            }
            int[] counts = emulatedCounts(CublasFfm.locate().found().orElseThrow());
            if (counts != null) {
                assertEquals(Precision.FP32.cublasComputeType, counts[2]);
            }
        }
    }

    /** cuBLAS refuses a leading dimension shorter than the stored rows (CUBLAS_STATUS_INVALID_VALUE), as CublasFfm says. */
    @Tag(EmulatedSuiteMain.TAG)
    @Test
    void aShortLeadingDimensionIsInvalid() {
        try (CudaEngine engine = openEngine();
             CublasFfm blas = new CublasFfm(engine.stream().address(), CublasFfm.locate().found().orElseThrow());
             CudaTensor a = upload(engine, 4, 6, gauss(24, 1)); CudaTensor c = upload(engine, 4, 4, gauss(16, 2))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> blas.gemmRowMajor(false, true, 4, 4,
                    6, 1f, a.address(), 6, a.address(), 3, 0f, c.address(), 4, Precision.FP32));
            assertTrue(e.getMessage().contains("INVALID_VALUE"), e.getMessage());
        }
    }

    private static CudaEngine openEngine() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        return CudaEngine.open(0, Precision.FP32);
    }

    private static CudaTensor upload(CudaEngine engine, int rows, int cols, float[] values) {
        CudaTensor t = (CudaTensor) engine.allocF32(rows, cols);
        engine.upload(t, values);
        return t;
    }

    @Test
    void precisionsMapToCublasComputeTypes() {
        assertEquals(68, Precision.FP32.cublasComputeType);   // CUBLAS_COMPUTE_32F
        assertEquals(77, Precision.TF32.cublasComputeType);   // CUBLAS_COMPUTE_32F_FAST_TF32
        assertEquals(75, Precision.BF16.cublasComputeType);   // CUBLAS_COMPUTE_32F_FAST_16BF
        assertEquals("INVALID_VALUE", CublasFfm.statusName(7));
    }

    /** {handles created, destroyed, the last compute type} of the emulated cuBLAS; null on a real one. */
    private static int[] emulatedCounts(String library) throws Throwable {
        var hook = CublasFfm.loadOnce(library).find("atmsaeEmuCublasCounts");
        if (hook.isEmpty()) {
            return null;
        }
        MethodHandle h = Linker.nativeLinker().downcallHandle(hook.get(), FunctionDescriptor.ofVoid(ADDRESS));
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
