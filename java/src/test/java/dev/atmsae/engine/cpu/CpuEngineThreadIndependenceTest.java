package dev.atmsae.engine.cpu;

import dev.atmsae.ChildProcess;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every kernel gives bitwise identical results for 1, 2, 3 and more threads than any product has tiles
 * ({@link ThreadIndependenceCheck}). In this JVM with the BLAS the run picked and with the pure-Java BLAS; then, each
 * in a child JVM (OpenBLAS reads OPENBLAS_CORETYPE when it loads), on every OpenBLAS kernel family this CPU can run:
 * the one OpenBLAS detects, Haswell and Zen (AVX2), SkylakeX where the CPU has AVX-512F.
 */
class CpuEngineThreadIndependenceTest {

    @Test
    void everyKernelIsBitwiseIndependentOfThreadCount() {
        for (boolean pureJava : new boolean[] {false, true}) {
            List<String> failures = ThreadIndependenceCheck.compare(pureJava, ThreadIndependenceCheck.THREAD_COUNTS,
                    System.out::println);
            assertEquals(List.of(), failures);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyBlasKernelFamilyInAChildJvm() {
        return Stream.of(
                DynamicTest.dynamicTest("OpenBLAS, core detected", () -> runChild(null, null)),
                DynamicTest.dynamicTest("OpenBLAS, OPENBLAS_CORETYPE=Haswell", () -> runChild("Haswell", null)),
                DynamicTest.dynamicTest("OpenBLAS, OPENBLAS_CORETYPE=Zen", () -> runChild("Zen", null)),
                DynamicTest.dynamicTest("OpenBLAS, OPENBLAS_CORETYPE=SkylakeX", () -> {
                    boolean avx512 = cpuHas("avx512f");
                    if (!avx512) {
                        System.out.println("SKIPPED OPENBLAS_CORETYPE=SkylakeX: no AVX-512F in /proc/cpuinfo");
                    }
                    assumeTrue(avx512, "SkylakeX kernels need AVX-512F, which /proc/cpuinfo does not list");
                    runChild("SkylakeX", null);
                }),
                DynamicTest.dynamicTest("pure Java, ATMSAE_BLAS=java",
                        () -> runChild(null, OpenBlasLibrary.PURE_JAVA)));
    }

    /** Runs {@link ThreadIndependenceCheck} in a child JVM with the given core type and BLAS setting. */
    private static void runChild(String coreType, String blasSetting) throws Exception {
        if (blasSetting == null) {
            String inherited = System.getenv(OpenBlasLibrary.ENV);
            assumeTrue(inherited == null || !inherited.strip().equalsIgnoreCase(OpenBlasLibrary.PURE_JAVA),
                    OpenBlasLibrary.ENV + "=" + inherited + " forces the pure-Java BLAS for this run");
        }
        Map<String, String> env = new HashMap<>();
        env.put("OPENBLAS_CORETYPE", coreType);
        if (blasSetting != null) {
            env.put(OpenBlasLibrary.ENV, blasSetting);
        }
        ChildProcess child = ChildProcess.run(blasSetting == null
                ? ChildProcess.java("512m", ThreadIndependenceCheck.class.getName(), "--expect-openblas")
                : ChildProcess.java("512m", ThreadIndependenceCheck.class.getName()), env, null, 300);
        String output = child.output();
        String label = coreType == null ? "detected core" : "OPENBLAS_CORETYPE=" + coreType;
        System.out.print("[" + label + (blasSetting == null ? "" : ", " + OpenBlasLibrary.ENV + "=" + blasSetting)
                + "] " + output);
        assertEquals(0, child.exitCode(), "child JVM failed:\n" + output);
        if (coreType != null && blasSetting == null) {
            // OpenBLAS falls back to its detected core when it cannot run the requested one: make sure it did not.
            assertTrue(output.toLowerCase().contains("core " + coreType.toLowerCase()),
                    "OpenBLAS did not run the " + coreType + " kernels:\n" + output);
        }
    }

    static boolean cpuHas(String flag) throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return false;
        }
        for (String line : Files.readAllLines(cpuinfo)) {
            if (line.startsWith("flags") && List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"))
                    .contains(flag)) {
                return true;
            }
        }
        return false;
    }
}
