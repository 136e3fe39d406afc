package dev.atmsae.engine.cuda;

import dev.atmsae.ChildProcess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The emulated driver's own checks (native-build/emu/tests: limits, the allocation registry, barriers and warp
 * collectives against host references, and kernels broken on purpose — a missing barrier, warp lock-step without
 * __syncwarp, a divergent barrier, a collective naming an exited lane, a deadlock — each caught), under the in-order
 * schedule and fuzzed ones, plain and sanitized; and a store past a buffer stopped by AddressSanitizer at its line.
 */
class EmulatedDriverTest {
    private static Path device(EmulatorBuild.Variant v) {
        Optional<Path> dir = EmulatorBuild.directory(v);
        assumeTrue(dir.isPresent(), EmulatorBuild.whyNot());
        assumeTrue(Files.isRegularFile(dir.get().resolve("test_kernels.fatbin")), "no nvcc: the test kernels' fatbin "
                + "was not built");
        return dir.get();
    }

    private static ChildProcess driverTest(Path dir, String schedule, String... extra) throws IOException,
            InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of(dir.resolve("emu_driver_test").toString(),
                dir.resolve("test_kernels.fatbin").toString()));
        cmd.addAll(List.of(extra));
        return ChildProcess.run(cmd, Map.of("ATMSAE_EMU_SCHEDULE", schedule, "ATMSAE_EMU_KERNELS",
                dir.resolve("libemu_test_kernels.so").toString(), "ASAN_OPTIONS", "detect_leaks=0"),
                Path.of("target/emulated-cuda/driver-test-" + dir.getFileName() + "-" + schedule.replace(':', '-')
                        + (extra.length > 0 ? "-" + extra[0] : "") + ".log"), 300);
    }

    @ParameterizedTest
    @ValueSource(strings = {"inorder", "fuzz:1", "fuzz:2", "fuzz:3"})
    void everyDriverCheckPasses(String schedule) throws Exception {
        ChildProcess r = driverTest(device(EmulatorBuild.Variant.PLAIN), schedule);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("ok a missing __syncthreads is caught") && r.output().contains("0 failed"),
                r.output());
        assertEquals(19, r.output().lines().filter(l -> l.startsWith("ok ")).count(), r.output());
    }

    @Test
    void everyDriverCheckPassesSanitized() throws Exception {
        ChildProcess r = driverTest(device(EmulatorBuild.Variant.SANITIZE), "fuzz:4");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("0 failed"), r.output());
    }

    @Test
    void aStorePastItsBufferStopsAtTheFaultingLine() throws Exception {
        ChildProcess r = driverTest(device(EmulatorBuild.Variant.SANITIZE), "inorder", "store-past-end");
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("AddressSanitizer: heap-buffer-overflow"), r.tail(30));
        assertTrue(r.output().contains("in store_past_end") && r.output().contains("test_kernels.cu:"), r.tail(30));
    }
}
