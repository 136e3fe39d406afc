package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The steady-state training step allocates nothing: after warm-up steps, further steps of every architecture (and
 * of relu / atm / jumprelu on both of their paths, dense and active-entry) allocate no engine tensor and no off-heap
 * byte. Every buffer is allocated and first touched before the steady state, so a step causes no page faults of fresh
 * memory. (Java heap per step is not asserted here: until C2 has compiled the Vector API kernels, which takes far
 * more steps than a unit test runs, the interpreter boxes vectors on the heap. At the benchmark shape the stepping
 * thread allocates about 4 KB per step once compiled; docs/decisions.md.)
 */
class SteadyStateAllocationTest {
    static final int D = 32, N = 512, B = 256, WARMUP = 3, STEPS = 5;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (ArchKind arch : ArchKind.values()) {
            all.add(Arguments.of(arch, false));
            if (arch == ArchKind.RELU || arch == ArchKind.ATM || arch == ArchKind.JUMPRELU) {
                all.add(Arguments.of(arch, true));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}, sparse codes: {1}")
    @MethodSource("cases")
    void stepsAfterWarmUpAllocateNothing(ArchKind arch, boolean sparseCodes) {
        Map<String, Object> m = new HashMap<>();
        m.put("width", N);
        m.put("batch_size", B);
        m.put("k", 8);
        m.put("atm_mask_start", 0);
        m.put("atm_mask_ramp", 1);
        m.put("seed", 3);
        TrainConfig cfg = TrainConfig.defaults(arch).with(m);
        try (CpuEngine e = new CpuEngine(2, false); Sae sae = SaeFactory.create(e, cfg, D, 1_000_000, null);
             Tensor x = e.allocF32(B, D)) {
            float[] host = new float[B * D];
            for (int i = 0; i < host.length; i++) {
                host[i] = (float) Philox.gaussian(9, Philox.STREAM_SYNTH, i);
            }
            e.upload(x, host);
            if (sparseCodes) { // under 1% of the codes fire, and stay below the sparse path's limit over the steps
                float[] bEnc = new float[N];
                Arrays.fill(bEnc, arch == ArchKind.JUMPRELU ? -3f : -0.35f); // pre-activations ~10x wider at init
                e.upload(sae.stateTensors().get("b_enc"), bEnc);
            }
            if (arch == ArchKind.TOPK || arch == ArchKind.BATCHTOPK) { // a third of the latents dead: AuxK runs
                Map<String, Object> s = new HashMap<>(sae.stateScalars());
                long[] since = new long[N];
                for (int i = 0; i < N; i += 3) {
                    since[i] = 1_000_000;
                }
                s.put("dead_since_fired", since);
                sae.restoreScalars(s);
            }
            long step = 0;
            for (int i = 0; i < WARMUP; i++) {
                sae.trainStep(x, ++step);
            }
            long tensors = e.tensorsAllocated();
            long bytes = e.bytesAllocated();
            assertTrue(tensors > 0 && bytes > 0, "the engine counts allocations");
            for (int i = 0; i < STEPS; i++) {
                StepMetrics metrics = sae.trainStep(x, ++step);
                assertTrue(Double.isFinite(metrics.loss()), "finite loss");
                if (sae instanceof DenseCodeSae dense) {
                    assertEquals(sparseCodes, dense.sparseStep(), "path taken (true: active entries)");
                }
            }
            assertEquals(0, e.tensorsAllocated() - tensors, "engine tensors allocated in " + STEPS + " steps");
            assertEquals(0, e.bytesAllocated() - bytes, "off-heap bytes allocated in " + STEPS + " steps");
        }
    }
}
