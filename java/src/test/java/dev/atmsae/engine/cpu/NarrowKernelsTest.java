package dev.atmsae.engine.cpu;

import dev.atmsae.ChildProcess;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * OPENBLAS_CORETYPE forcing AVX2 kernels on an AVX-512 CPU is said once per process, with the measured rates of
 * both kernel families, and carried into the engine's description; nothing is said when the variable is unset or
 * names AVX-512 kernels. Each case in a child JVM (OpenBLAS reads the variable when it loads).
 */
class NarrowKernelsTest {
    private static final Pattern NOTE = Pattern.compile("atmsae: note: OPENBLAS_CORETYPE=Haswell makes OpenBLAS run "
            + "its Haswell \\(AVX2\\) kernels on this AVX-512 CPU, whose own are (\\w+): one single-threaded "
            + "\\S+ product ran at (\\d+) GFLOP/s against (\\d+) \\(measured now, ([\\d.]+)x\\)");

    /** Child: opens two engines and prints their descriptions. */
    public static void main(String[] args) {
        for (int i = 0; i < 2; i++) {
            try (CpuEngine engine = new CpuEngine(1, false)) {
                System.out.println("engine: " + engine.describe());
            }
        }
    }

    @Test
    void avx512CoreNames() {
        for (String core : new String[] {"SkylakeX", "Cooperlake", "SAPPHIRERAPIDS", " skylakex "}) {
            assertTrue(NarrowKernels.avx512Core(core), core);
        }
        for (String core : new String[] {"Haswell", "Zen", "Sandybridge", "Prescott", "?"}) {
            assertFalse(NarrowKernels.avx512Core(core), core);
        }
    }

    @Test
    void forcedHaswellOnAnAvx512CpuIsSaidOnceWithItsCost() throws Exception {
        assumeTrue(usesBundledOpenBlas(), "ATMSAE_BLAS picks another BLAS for this run");
        boolean avx512 = CpuEngineThreadIndependenceTest.cpuHas("avx512f");
        if (!avx512) {
            System.out.println("SKIPPED forced-Haswell note: no AVX-512F in /proc/cpuinfo, so Haswell is not narrower");
        }
        assumeTrue(avx512, "no AVX-512F in /proc/cpuinfo: AVX2 kernels are not narrower than this CPU's");
        String out = child("Haswell");
        Matcher m = NOTE.matcher(out);
        assertTrue(m.find(), out);
        assertTrue(NarrowKernels.avx512Core(m.group(1)), m.group(1));
        double forced = Double.parseDouble(m.group(2));
        double own = Double.parseDouble(m.group(3));
        assertTrue(forced > 0 && own > 0, out);
        assertEquals(own / forced, Double.parseDouble(m.group(4)), 0.02 + 0.03 * own / forced, out);
        assertFalse(m.find(), "said more than once:\n" + out);
        assertEquals(2, out.lines().filter(l -> l.startsWith("engine: ") && l.contains("core Haswell")
                && l.contains("[OPENBLAS_CORETYPE=Haswell makes OpenBLAS run")).count(), out);
    }

    @Test
    void nothingIsSaidWithoutANarrowingCoreType() throws Exception {
        assumeTrue(usesBundledOpenBlas(), "ATMSAE_BLAS picks another BLAS for this run");
        String detected = child(null);
        assertFalse(detected.contains("atmsae: note:"), detected);
        if (CpuEngineThreadIndependenceTest.cpuHas("avx512f")) {
            String skylake = child("SkylakeX");
            assertFalse(skylake.contains("atmsae: note:"), skylake);
        }
    }

    private static boolean usesBundledOpenBlas() {
        String setting = System.getenv(OpenBlasLibrary.ENV);
        return setting == null || setting.isBlank();
    }

    private static String child(String coreType) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put(NarrowKernels.CORETYPE, coreType);
        ChildProcess r = ChildProcess.run(ChildProcess.java("512m", NarrowKernelsTest.class.getName()), env, null, 300);
        System.out.print("[OPENBLAS_CORETYPE=" + coreType + "] " + r.output());
        assertEquals(0, r.exitCode(), r.output());
        return r.output();
    }
}
