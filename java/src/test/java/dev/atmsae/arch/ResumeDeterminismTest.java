package dev.atmsae.arch;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.core.TrainConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bitwise reproducibility: (1) stopping after step 4, saving stateTensors + stateScalars (scalars through a JSON round
 * trip, as a checkpoint would), rebuilding the SAE and continuing gives exactly the state of an uninterrupted 8-step
 * run; (2) a 2-thread CPU engine gives exactly the state of a 1-thread one (ATM: the masks are Philox-keyed, so they
 * agree too; masking is on from step 4 by the short-run rule, and latents silent for a batch count as dead, so AuxK
 * runs).
 */
class ResumeDeterminismTest {
    static final int D = 32, N = 64, B = 64;
    static final long STEPS = 8, STOP = 4;

    static TrainConfig cfg(ArchKind arch) {
        return TrainConfig.defaults(arch).with(new HashMap<>(Map.of("width", N, "k", 4, "batch_size", B, "lr", 1e-2,
                "lr_warmup_steps", 0, "l1_coeff", 0.5, "dead_window_tokens", B)));
    }

    static float[] batch(long step) {
        return ExportLikeData.rows(B, D, step);
    }

    record Snapshot(Map<String, float[]> tensors, String scalarsJson, StepMetrics last) {
    }

    static Snapshot snapshot(CpuEngine e, Sae sae, StepMetrics last) throws Exception {
        Map<String, float[]> t = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> en : sae.stateTensors().entrySet()) {
            float[] v = new float[(int) en.getValue().size()];
            e.download(en.getValue(), v);
            t.put(en.getKey(), v);
        }
        return new Snapshot(t, new ObjectMapper().writeValueAsString(sae.stateScalars()), last);
    }

    static Snapshot run(int threads, TrainConfig cfg, long from, long to, Snapshot start) throws Exception {
        try (CpuEngine e = new CpuEngine(threads, false); Tensor x = e.allocF32(B, D);
             Sae sae = SaeFactory.create(e, cfg, D, STEPS, batch(0))) {
            if (start != null) {
                for (Map.Entry<String, Tensor> en : sae.stateTensors().entrySet()) {
                    e.upload(en.getValue(), start.tensors().get(en.getKey()));
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> scalars = new ObjectMapper().readValue(start.scalarsJson(), Map.class);
                sae.restoreScalars(scalars);
            }
            StepMetrics m = null;
            for (long step = from; step <= to; step++) {
                e.upload(x, batch(step));
                m = sae.trainStep(x, step);
            }
            return snapshot(e, sae, m);
        }
    }

    static void assertSame(Snapshot a, Snapshot b, String what) {
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (String k : a.tensors().keySet()) {
            assertArrayEquals(a.tensors().get(k), b.tensors().get(k), 0f, what + ": " + k);
        }
        assertEquals(a.scalarsJson(), b.scalarsJson(), what + ": scalars");
        assertEquals(a.last(), b.last(), what + ": last step metrics");
    }

    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void resumedAndMultiThreadedRunsAreBitwiseIdentical(ArchKind arch) throws Exception {
        checkResumeAndThreads(cfg(arch));
    }

    /** ATM on every base, per-token and per-latent masks, with and without rescaling (AtmVariantGradientTest's list). */
    static java.util.stream.Stream<Map<String, Object>> atmVariants() {
        return AtmVariantGradientTest.variants().stream();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("atmVariants")
    void atmVariantsResumeAndThreadBitwiseIdentically(Map<String, Object> variant) throws Exception {
        Map<String, Object> keys = new HashMap<>(cfg(ArchKind.ATM).toMap());
        keys.putAll(TrainConfig.atmDefaults((String) variant.get("atm_base")).toMap());
        keys.putAll(Map.of("width", N, "k", 4, "batch_size", B, "lr", 1e-2, "lr_warmup_steps", 0,
                "dead_window_tokens", B, "jumprelu_theta_init", 0.05));
        keys.putAll(variant);
        checkResumeAndThreads(TrainConfig.fromMap(keys));
    }

    private static void checkResumeAndThreads(TrainConfig cfg) throws Exception {
        String what = cfg.arch().id() + "/" + cfg.atmBase() + "/" + cfg.atmMaskMode() + "/rescale=" + cfg.atmRescale();
        Snapshot whole = run(1, cfg, 1, STEPS, null);
        Snapshot firstHalf = run(1, cfg, 1, STOP, null);
        Snapshot resumed = run(1, cfg, STOP + 1, STEPS, firstHalf);
        assertSame(whole, resumed, what + " resumed");
        Snapshot twoThreads = run(2, cfg, 1, STEPS, null);
        assertSame(whole, twoThreads, what + " 2 threads");
        ArchKind mech = cfg.sparsityKind();
        if (cfg.arch() == ArchKind.ATM) {
            assertTrue(whole.last().fracMaskable() > 0, what + ": masking was active");
            // BatchTopK's (and Matryoshka's) l0 is the inference (threshold) L0; its training code holds k per row
            // before masking
            double unmasked = mech == ArchKind.BATCHTOPK || mech == ArchKind.MATRYOSHKA ? cfg.k() : whole.last().l0();
            assertTrue(whole.last().l0Masked() < unmasked, what + ": the mask removed codes");
        }
        if (mech.kControlled()) {
            assertTrue(whole.last().auxLoss() > 0, what + ": AuxK ran");
        }
    }
}
