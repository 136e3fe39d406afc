package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.core.ArchKind;
import dev.atmsae.core.Philox;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.engine.cuda.CudaAvailability;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LongRunParityTest {
    private static final LongRunParity.Shape SMALL = new LongRunParity.Shape(24, 64, 32, 6, 60);
    /** The device run: long enough for the curves to separate if a kernel were off, small enough for the emulator. */
    private static final LongRunParity.Shape DEVICE = new LongRunParity.Shape(32, 128, 32, 8, 150);

    /** Two CPU engines that round differently (pure Java on 1 thread, the default BLAS on 2) pass the comparison. */
    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void harnessAcceptsTwoHonestCpuEngines(ArchKind arch) {
        try (Engine a = Engines.cpu(1, true); Engine b = Engines.cpu(2, false)) {
            LongRunParity.Result r = LongRunParity.compare(a, b, arch, SMALL, step -> batch(SMALL, step));
            assertTrue(r.passed(), r.failure());
            assertEquals(SMALL.steps(), r.a().loss().length);
            assertTrue(Arrays.stream(r.b().loss()).allMatch(Double::isFinite));
            // Something was learned (the total loss may rise while a sparsity coefficient warms up, and ATM's MSE
            // while its masking ramps in over these few steps).
            double[] mse = r.a().mse();
            assertTrue(arch == ArchKind.ATM || mse[0] > mse[mse.length - 1], "MSE " + mse[0] + " -> " + mse[mse.length - 1]);
        }
    }

    /** CUDA against the CPU engine over {@link #DEVICE}'s steps (GpuLongRun does the same at a GPU's shape). */
    @Tag(EmulatedSuiteMain.TAG)
    @Tag(EmulatedSuiteMain.LONG)
    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void cudaCurvesFollowTheCpuEngine(ArchKind arch) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        try (Engine cpu = Engines.cpu(1, false); Engine cuda = Engines.cuda()) {
            LongRunParity.Result r = LongRunParity.compare(cpu, cuda, arch, DEVICE, step -> batch(DEVICE, step));
            assertTrue(r.passed(), r.failure());
        }
    }

    /** The verdict rejects a final loss 2% off and an L0 trajectory that drifts, and names which. */
    @Test
    void verdictRejectsDifferentCurves() {
        int steps = SMALL.steps();
        double[] loss = new double[steps], l0 = new double[steps];
        for (int s = 0; s < steps; s++) {
            loss[s] = 1.0 / (1 + s);
            l0[s] = 30 - 0.3 * s;
        }
        LongRunParity.Curves base = new LongRunParity.Curves(loss, loss, l0, 1);
        assertTrue(LongRunParity.judge(ArchKind.RELU, SMALL, "a", base, "b", base).passed());

        double[] lossOff = Arrays.stream(loss).map(v -> v * 1.02).toArray();
        LongRunParity.Result r = LongRunParity.judge(ArchKind.RELU, SMALL, "a", base, "b",
                new LongRunParity.Curves(lossOff, lossOff, l0, 1));
        assertFalse(r.passed());
        assertTrue(r.failure().startsWith("final loss"), r.failure());

        double[] l0Drift = l0.clone();
        for (int s = steps / 2; s < steps; s++) {
            l0Drift[s] += 3;   // half-way through, one engine keeps 3 more latents per token
        }
        r = LongRunParity.judge(ArchKind.RELU, SMALL, "a", base, "b", new LongRunParity.Curves(loss, loss, l0Drift, 1));
        assertFalse(r.passed());
        assertTrue(r.failure().startsWith("L0 over steps 31-33"), r.failure());
        assertEquals(3.0, r.worstL0Diff(), 1e-12);
    }

    private static float[] batch(LongRunParity.Shape shape, long step) {
        float[] x = new float[shape.batch() * shape.d()];
        for (int i = 0; i < x.length; i++) {
            double g = Philox.gaussian(17, Philox.STREAM_SYNTH, step * x.length + i);
            x[i] = (float) (i % shape.d() < 4 ? 2 + g : 0.3 * g);   // a few strong directions to learn
        }
        return x;
    }
}
