package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.engine.cuda.CudaAvailability;
import dev.atmsae.engine.cuda.CudaEngine;
import dev.atmsae.engine.cuda.Precision;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every CUDA kernel against its float64 host reference (CudaParity). Skipped, visibly, without a device; runs on the
 * emulated device in EmulatedCudaSuiteTest.
 */
@Tag(EmulatedSuiteMain.TAG)
class CudaEngineParityTest {
    @Test
    void everyKernelMatchesItsReference() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        try (CudaEngine engine = CudaEngine.open(0, Precision.FP32)) {
            List<CudaParity.Outcome> outcomes = new CudaParity(engine).runAll();
            String failed = outcomes.stream().filter(o -> !o.passed()).map(o -> o.name() + ": " + o.detail())
                    .collect(Collectors.joining("\n"));
            assertTrue(failed.isEmpty(), failed);
        }
    }

    @Test
    void atomicScatterAgreesWithTheReferenceToo() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        try (CudaEngine engine = CudaEngine.open(0, Precision.FP32)) {
            engine.setSparseScatter(CudaEngine.SparseScatter.ATOMIC);
            new CudaParity(engine).sparseDecode();
        }
    }

    @Test
    void tf32AndBf16ProductsStayWithinTheirTolerances() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        try (CudaEngine engine = CudaEngine.open(0, Precision.TF32)) {
            new CudaParity(engine).gemm(5e-3);
            engine.setPrecision(Precision.BF16);
            new CudaParity(engine).gemm(3e-2);
        }
    }
}
