package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.engine.cuda.CudaAvailability;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StepParityTest {
    /**
     * The harness on two CPU engines that round differently (pure-Java BLAS on 1 thread vs the default BLAS on 2
     * threads): it must accept them, so its tolerances are not tighter than honest float32 differences.
     */
    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void harnessAcceptsTwoHonestCpuEngines(ArchKind arch) {
        try (Engine a = Engines.cpu(1, true); Engine b = Engines.cpu(2, false)) {
            assertEquals("", StepParity.compare(a, b, arch));
        }
    }

    static java.util.stream.Stream<String> atmVariants() {
        return StepParity.ATM_VARIANTS.keySet().stream().sorted();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("atmVariants")
    void harnessAcceptsTwoHonestCpuEnginesOnAtmVariants(String variant) {
        try (Engine a = Engines.cpu(1, true); Engine b = Engines.cpu(2, false)) {
            assertEquals("", StepParity.compareAtmVariant(a, b, variant));
        }
    }

    @Tag(EmulatedSuiteMain.TAG)
    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("atmVariants")
    void cudaTrainStepMatchesCpuOnAtmVariants(String variant) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        try (Engine cpu = Engines.cpu(1, true); Engine cuda = Engines.cuda()) {
            assertEquals("", StepParity.compareAtmVariant(cpu, cuda, variant));
        }
    }

    /** The same harness rejects an engine whose training differs (batches 1% larger on one side). */
    @ParameterizedTest
    @EnumSource(value = ArchKind.class, names = {"RELU", "TOPK"})
    void harnessRejectsADifferentStep(ArchKind arch) {
        try (Engine a = Engines.cpu(1, true); Engine b = Engines.cpu(1, true)) {
            assertFalse(StepParity.compare(a, b, arch, 1.01f).isEmpty());
        }
    }

    @Tag(EmulatedSuiteMain.TAG)
    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void cudaTrainStepMatchesCpu(ArchKind arch) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        try (Engine cpu = Engines.cpu(1, true); Engine cuda = Engines.cuda()) {
            assertEquals("", StepParity.compare(cpu, cuda, arch));
        }
    }
}
