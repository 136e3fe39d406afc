package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.ChildProcess;
import dev.atmsae.engine.cuda.CudaEmulator;
import dev.atmsae.engine.cuda.EmulatorBuild;
import dev.atmsae.engine.cuda.Kernel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA engine's tests (every test tagged {@value EmulatedSuiteMain#TAG}: kernel parity against float64
 * references, training steps against the CPU engine for every architecture and ATM variant, the long run, cuBLAS
 * through FFM, the self-test, atmsae train --engine cuda) run unchanged on the emulated device in a child JVM: in
 * the in-order schedule, three fuzzed ones, and once under AddressSanitizer and UndefinedBehaviorSanitizer (less the
 * long runs, which repeat the other tests' kernels for many steps at 3-4x the cost there). Each run must pass every
 * test and launch every kernel {@link Kernel} lists.
 */
class EmulatedCudaSuiteTest {
    private static final Path OUT = Path.of("target/emulated-cuda");
    private static final List<String> PLAIN_SCHEDULES = List.of("inorder", "fuzz:1", "fuzz:2", "fuzz:3");
    private static final String SANITIZED_SCHEDULE = "fuzz:4";
    private static final ChildRuns RUNS = new ChildRuns();
    private static final Map<String, Double> SECONDS = new ConcurrentHashMap<>();

    @BeforeAll
    static void startEveryRun() {
        Optional<Path> plain = EmulatorBuild.directory(EmulatorBuild.Variant.PLAIN);
        Optional<Path> sanitized = EmulatorBuild.directory(EmulatorBuild.Variant.SANITIZE);
        sanitized.ifPresent(dir -> start(EmulatorBuild.Variant.SANITIZE, SANITIZED_SCHEDULE, dir));
        plain.ifPresent(dir -> {
            PLAIN_SCHEDULES.forEach(schedule -> start(EmulatorBuild.Variant.PLAIN, schedule, dir));
            RUNS.start("selftest", () -> EmulatedJvm.run(dir, EmulatorBuild.Variant.PLAIN, "fuzz:7",
                    OUT.resolve("stats-selftest.json"), Map.of(), OUT.resolve("selftest.log"), GpuSelfTest.class.getName(),
                    "--out", OUT.resolve("selftest").toString()));
        });
    }

    @AfterAll
    static void stopPool() {
        RUNS.close();
    }

    private static void start(EmulatorBuild.Variant variant, String schedule, Path device) {
        String tag = tag(variant, schedule);
        RUNS.start(tag, () -> {
            Path stats = OUT.resolve("stats-" + tag + ".json");
            Files.deleteIfExists(stats);
            long t0 = System.nanoTime();
            String[] args = variant == EmulatorBuild.Variant.SANITIZE
                    ? new String[] {"--exclude-tag", EmulatedSuiteMain.LONG} : new String[0];
            ChildProcess r = EmulatedJvm.run(device, variant, schedule, stats, Map.of(), OUT.resolve("suite-" + tag + ".log"),
                    EmulatedSuiteMain.class.getName(), args);
            SECONDS.put(tag, (System.nanoTime() - t0) / 1e9);
            return r;
        });
    }

    private static String tag(EmulatorBuild.Variant variant, String schedule) {
        return variant.name().toLowerCase() + "-" + schedule.replace(':', '-');
    }

    @ParameterizedTest
    @ValueSource(strings = {"inorder", "fuzz:1", "fuzz:2", "fuzz:3"})
    void cudaTestsPassOnTheEmulatedDevice(String schedule) throws Exception {
        checkSuite(EmulatorBuild.Variant.PLAIN, schedule);
    }

    @Test
    void cudaTestsPassOnTheSanitizedEmulatedDevice() throws Exception {
        checkSuite(EmulatorBuild.Variant.SANITIZE, SANITIZED_SCHEDULE);
    }

    /** The device bundle's runner, GpuSelfTest, end to end on the emulated device: exit 0, every check passed. */
    @Test
    void selfTestRunnerPassesOnTheEmulatedDevice() throws Exception {
        ChildProcess r = RUNS.result("selftest", EmulatorBuild.Variant.PLAIN);
        assertEquals(0, r.exitCode(), r.tail(40));
        JsonNode report = new ObjectMapper().readTree(OUT.resolve("selftest/selftest.json").toFile());
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
        assertEquals(0, onPath.exitCode(), onPath.output());
        assertTrue(onPath.output().contains("libcuda.so.1 on the library path is atmsae's emulated device; set "
                + CudaEmulator.ENV), onPath.output());
        assertTrue(onPath.output().contains("auto: cpu"), onPath.output());
        ChildProcess named = EmulatedJvm.run(device.get(), EmulatorBuild.Variant.PLAIN, "inorder",
                OUT.resolve("stats-status.json"), Map.of(), OUT.resolve("status-named.log"), CudaStatusMain.class.getName());
        assertEquals(0, named.exitCode(), named.output());
        assertTrue(named.output().contains("cuda status: emulated CUDA device only"), named.output());
        assertTrue(named.output().contains("auto: cpu"), "--engine auto never picks the emulated device: " + named.output());
    }

    private static void checkSuite(EmulatorBuild.Variant variant, String schedule) throws Exception {
        String tag = tag(variant, schedule);
        ChildProcess r = RUNS.result(tag, variant);
        String summary = r.output().lines().filter(l -> l.startsWith("emulated suite:")).findFirst().orElse("no summary");
        System.out.printf("emulated CUDA suite (%s, %s): %s in %.1f s (runs side by side)%n",
                variant.name().toLowerCase(), schedule, summary, SECONDS.getOrDefault(tag, Double.NaN));
        List<String> bad = r.output().lines().filter(l -> l.startsWith("FAIL") || l.startsWith("SKIP")
                || l.startsWith("atmsae-emu: kernel failed") || l.contains("ERROR: AddressSanitizer")
                || l.contains("runtime error:")).toList();
        assertEquals(0, r.exitCode(), "emulated suite (" + tag + ") failed:\n" + String.join("\n", bad) + "\n" + r.tail(40));
        JsonNode kernels = new ObjectMapper().readTree(OUT.resolve("stats-" + tag + ".json").toFile()).path("kernels");
        List<String> idle = new ArrayList<>();
        for (Kernel k : Kernel.values()) {
            if (kernels.path(k.symbol()).path("launches").asLong() == 0) {
                idle.add(k.symbol());
            }
        }
        assertTrue(idle.isEmpty(), "kernels never launched in the emulated suite: " + idle);
    }
}
