package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.engine.cuda.ChildProcess;
import dev.atmsae.engine.cuda.CudaEmulator;
import dev.atmsae.engine.cuda.EmulatorBuild;
import dev.atmsae.engine.cuda.Kernel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA engine's tests (every test tagged {@value EmulatedSuiteMain#TAG}: kernel parity against float64
 * references, training steps against the CPU engine for every architecture and ATM variant, the long run, cuBLAS
 * through FFM, the self-test, atmsae train --engine cuda) run unchanged on the emulated device in a child JVM: in
 * the in-order schedule, three fuzzed ones, and once under AddressSanitizer and UndefinedBehaviorSanitizer. Each run
 * must pass every test and launch every kernel {@link Kernel} lists.
 */
class EmulatedCudaSuiteTest {
    private static final Path OUT = Path.of("target/emulated-cuda");

    @ParameterizedTest
    @ValueSource(strings = {"inorder", "fuzz:1", "fuzz:2", "fuzz:3"})
    void cudaTestsPassOnTheEmulatedDevice(String schedule) throws Exception {
        runSuite(EmulatorBuild.Variant.PLAIN, schedule);
    }

    @Test
    void cudaTestsPassOnTheSanitizedEmulatedDevice() throws Exception {
        runSuite(EmulatorBuild.Variant.SANITIZE, "fuzz:4");
    }

    /** The device bundle's runner, GpuSelfTest, end to end on the emulated device: exit 0, every check passed. */
    @Test
    void selfTestRunnerPassesOnTheEmulatedDevice() throws Exception {
        Optional<Path> device = EmulatorBuild.directory(EmulatorBuild.Variant.PLAIN);
        assumeTrue(device.isPresent(), EmulatorBuild.whyNot());
        Path out = OUT.resolve("selftest");
        ChildProcess r = EmulatedJvm.run(device.get(), EmulatorBuild.Variant.PLAIN, "fuzz:7", OUT.resolve("stats-selftest.json"),
                Map.of(), OUT.resolve("selftest.log"), GpuSelfTest.class.getName(), "--out", out.toString());
        assertEquals(0, r.exit(), r.tail(40));
        JsonNode report = new ObjectMapper().readTree(out.resolve("selftest.json").toFile());
        assertEquals(0, report.path("failed").asInt(), r.tail(40));
        assertTrue(report.path("passed").asInt() >= 40, report.toString());
        assertTrue(report.path("engine").asText().contains("emulated CUDA device"), report.path("engine").asText());
    }

    /** Only ATMSAE_CUDA_EMULATOR selects the emulated device: found on the library path it is named and refused. */
    @Test
    void theEmulatedDriverIsUsedOnlyWhenNamed() throws Exception {
        Optional<Path> device = EmulatorBuild.directory(EmulatorBuild.Variant.PLAIN);
        assumeTrue(device.isPresent(), EmulatorBuild.whyNot());
        ChildProcess onPath = EmulatedJvm.runWith(Map.of("LD_LIBRARY_PATH", device.get().toString()),
                OUT.resolve("status-library-path.log"), CudaStatusMain.class.getName());
        assertEquals(0, onPath.exit(), onPath.output());
        assertTrue(onPath.output().contains("libcuda.so.1 on the library path is atmsae's emulated device; set "
                + CudaEmulator.ENV), onPath.output());
        assertTrue(onPath.output().contains("auto: cpu"), onPath.output());
        ChildProcess named = EmulatedJvm.run(device.get(), EmulatorBuild.Variant.PLAIN, "inorder",
                OUT.resolve("stats-status.json"), Map.of(), OUT.resolve("status-named.log"), CudaStatusMain.class.getName());
        assertEquals(0, named.exit(), named.output());
        assertTrue(named.output().contains("cuda status: emulated CUDA device only"), named.output());
        assertTrue(named.output().contains("auto: cpu"), "--engine auto never picks the emulated device: " + named.output());
    }

    private static void runSuite(EmulatorBuild.Variant variant, String schedule) throws Exception {
        Optional<Path> device = EmulatorBuild.directory(variant);
        assumeTrue(device.isPresent(), EmulatorBuild.whyNot());
        String tag = variant.name().toLowerCase() + "-" + schedule.replace(':', '-');
        Path stats = OUT.resolve("stats-" + tag + ".json");
        Files.deleteIfExists(stats);
        long t0 = System.nanoTime();
        ChildProcess r = EmulatedJvm.run(device.get(), variant, schedule, stats, Map.of(), OUT.resolve("suite-" + tag + ".log"),
                EmulatedSuiteMain.class.getName());
        double seconds = (System.nanoTime() - t0) / 1e9;
        String summary = r.output().lines().filter(l -> l.startsWith("emulated suite:")).findFirst().orElse("no summary");
        System.out.printf("emulated CUDA suite (%s, %s): %s in %.1f s%n", variant.name().toLowerCase(), schedule, summary,
                seconds);
        List<String> bad = r.output().lines().filter(l -> l.startsWith("FAIL") || l.startsWith("SKIP")
                || l.startsWith("atmsae-emu: kernel failed") || l.contains("ERROR: AddressSanitizer")
                || l.contains("runtime error:")).toList();
        assertEquals(0, r.exit(), "emulated suite (" + tag + ") failed:\n" + String.join("\n", bad) + "\n" + r.tail(40));
        JsonNode kernels = new ObjectMapper().readTree(stats.toFile()).path("kernels");
        List<String> idle = new ArrayList<>();
        for (Kernel k : Kernel.values()) {
            if (kernels.path(k.symbol()).path("launches").asLong() == 0) {
                idle.add(k.symbol());
            }
        }
        assertTrue(idle.isEmpty(), "kernels never launched in the emulated suite: " + idle);
    }
}
