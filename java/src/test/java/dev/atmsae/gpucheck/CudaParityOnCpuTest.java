package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.engine.cuda.CudaAvailability;
import dev.atmsae.util.UserError;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The CUDA parity harness is engine-generic: run here against the CPU engine, it checks that the harness's float64
 * references and tolerances are right (and that both engines read the Engine contract the same way) before a GPU
 * ever runs it. The same harness then runs on the device (CudaEngineParityTest, GpuSelfTest).
 */
class CudaParityOnCpuTest {
    @Test
    void cpuEnginePassesTheCudaParityHarness() {
        try (Engine cpu = Engines.cpu(1, true)) {
            List<CudaParity.Outcome> outcomes = new CudaParity(cpu).runAll();
            assertEquals(24, outcomes.size());
            String failed = outcomes.stream().filter(o -> !o.passed()).map(o -> o.name() + ": " + o.detail())
                    .collect(Collectors.joining("\n"));
            assertTrue(failed.isEmpty(), failed);
        }
    }

    @Test
    void harnessDetectsAWrongResult() {
        assertThrows(CudaParity.Mismatch.class,
                () -> CudaParity.closeRel("x", new double[] {1.0, 2.0}, new float[] {1.0f, 2.001f}, 1e-5, 0));
        assertThrows(CudaParity.Mismatch.class,
                () -> CudaParity.closeToScale("x", new double[] {100.0, 0.0}, new float[] {100.0f, 0.01f}, 1e-5));
    }

    @Test
    void autoFallsBackToCpuAndCudaNamesTheReason() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeFalse(probe.available(), "CUDA is available here");
        try (Engine e = Engines.auto()) {
            assertEquals("cpu", e.name());
        }
        UserError err = assertThrows(UserError.class, Engines::cuda);
        assertTrue(err.getMessage().startsWith("--engine cuda: "), err.getMessage());
    }
}
