package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.TrainConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Export folds input scale and decoder norms without changing the function: SaeInference on raw x reproduces the
 * training-time inference forward on s·x, divided by s (max |difference| ≤ 1e-5·max|x̂|), with the same number of
 * active codes; exported decoder rows have unit norm (1e-5). Random inputs; the SAE is trained 30 steps first so
 * biases, thresholds and (ReLU) decoder norms are not at their initial values.
 */
class ExportInferenceTest {
    static final int D = 8, N = 16, B = 8;
    static final float SCALE = 2.5f;

    static TrainConfig cfg(ArchKind arch, Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("width", N, "k", 3, "batch_size", B, "lr", 1e-2,
                "lr_warmup_steps", 0, "l1_coeff", 0.3, "jumprelu_theta_init", 0.3));
        m.putAll(extra);
        return TrainConfig.defaults(arch).with(m);
    }

    static float[] randomBatch(long seed, float scale) {
        double[] x = RefSae.randomRows(B, D, seed);
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) (scale * (x[i] + 0.3));
        }
        return f;
    }

    static Sae trained(CpuEngine e, TrainConfig cfg, Tensor x) {
        Sae sae = SaeFactory.create(e, cfg, D, 40, randomBatch(99, SCALE));
        for (long step = 1; step <= 30; step++) {
            e.upload(x, randomBatch(step, SCALE));
            sae.trainStep(x, step);
        }
        return sae;
    }

    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void exportedForwardOnRawInputsMatchesTrainingForward(ArchKind arch) {
        checkExport(cfg(arch, Map.of()), switch (arch) {
            case RELU, ATM -> "standard";
            case TOPK -> "topk";
            case BATCHTOPK, JUMPRELU, MATRYOSHKA -> "jumprelu";
        });
    }

    /** ATM on each base exports as its base does (relu → standard, topk → topk, batchtopk/jumprelu → jumprelu). */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"relu", "topk", "batchtopk", "jumprelu"})
    void atmExportFollowsTheBase(String base) {
        Map<String, Object> keys = new HashMap<>(TrainConfig.atmDefaults(base).toMap());
        keys.putAll(cfg(ArchKind.ATM, Map.of()).toMap());
        keys.put("atm_base", base);
        keys.put("atm_rescale", true);
        keys.put("lr_warmup_steps", 0);
        keys.put("adam_beta1", TrainConfig.atmDefaults(base).adamBeta1());
        checkExport(TrainConfig.fromMap(keys), switch (base) {
            case "relu" -> "standard";
            case "topk" -> "topk";
            default -> "jumprelu";
        });
    }

    private static void checkExport(TrainConfig config, String architecture) {
        ArchKind arch = config.arch();
        try (CpuEngine e = new CpuEngine(1, false); Tensor x = e.allocF32(B, D); Tensor xhat = e.allocF32(B, D);
             Sae sae = trained(e, config, x)) {
            float[] raw = randomBatch(1234, 1f);
            float[] scaled = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                scaled[i] = SCALE * raw[i];
            }
            e.upload(x, scaled);
            long active = sae.inferenceForward(x, xhat);
            float[] expected = new float[B * D];
            e.download(xhat, expected);

            SaeWeights w = sae.export(SCALE, Map.of("model_name", "test"));
            assertEquals(architecture, w.architecture());
            assertTrue(w.metadata().containsKey("atmsae"));
            assertEquals("test", w.metadata().get("model_name"));
            for (int i = 0; i < N; i++) {
                double nn = 0;
                for (int j = 0; j < D; j++) {
                    nn += (double) w.wDec()[i * D + j] * w.wDec()[i * D + j];
                }
                assertEquals(1.0, Math.sqrt(nn), 1e-5, "decoder row " + i);
            }
            try (SaeInference inf = new SaeInference(e, w)) {
                e.upload(x, raw);
                InferenceSums sums = inf.run(x);
                float[] got = new float[B * D];
                e.download(inf.reconstruction(), got);
                double maxAbs = 0, maxDiff = 0, sqErr = 0;
                for (int i = 0; i < got.length; i++) {
                    double want = expected[i] / SCALE;
                    maxAbs = Math.max(maxAbs, Math.abs(want));
                    maxDiff = Math.max(maxDiff, Math.abs(want - got[i]));
                    sqErr += (raw[i] - (double) got[i]) * (raw[i] - (double) got[i]);
                }
                assertTrue(maxDiff <= 1e-5 * maxAbs, arch + ": max diff " + maxDiff + " vs max " + maxAbs);
                assertEquals(active, sums.l0Count(), arch + " active codes");
                assertTrue(active > 0, "some codes active");
                assertEquals(sqErr, sums.sqErr(), 1e-5 * sqErr);
                long fires = 0;
                for (long f : sums.fires()) {
                    fires += f;
                }
                assertEquals(active, fires);
                assertTrue(sums.cosSum() > 0 && sums.cosSum() <= B + 1e-6);
            }
        }
    }

    @Test
    void atmGateExportSilencesHighProbabilityLatentsAndKeepsTheRest() {
        try (CpuEngine e = new CpuEngine(1, false); Tensor x = e.allocF32(B, D);
             Sae sae = trained(e, cfg(ArchKind.ATM, Map.of("atm_eval_mask", "gate", "l1_coeff", 0.05)), x)) {
            Map<String, Object> s = new HashMap<>(sae.stateScalars());
            double[] p = new double[N];
            for (int i = 0; i < N; i++) {
                p[i] = i % 2 == 0 ? 0.7 : 0.2;   // even latents at/above eval_gate_p 0.5 → gated
            }
            s.put("atm_p", p);
            sae.restoreScalars(s);
            SaeWeights gated = sae.export(SCALE, Map.of());
            assertEquals("jumprelu", gated.architecture());
            SaeWeights open = new SaeWeights("standard", gated.dIn(), gated.dSae(), gated.wEnc(), gated.bEnc(),
                    gated.wDec(), gated.bDec(), null, 0, gated.metadata());
            e.upload(x, randomBatch(555, 1f));
            float[] gatedCodes, openCodes;
            try (SaeInference inf = new SaeInference(e, gated)) {
                inf.run(x);
                gatedCodes = inf.codesToHost();
            }
            try (SaeInference inf = new SaeInference(e, open)) {
                inf.run(x);
                openCodes = inf.codesToHost();
            }
            int openOdd = 0, openEven = 0;
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < N; i++) {
                    float g = gatedCodes[b * N + i], o = openCodes[b * N + i];
                    if (i % 2 == 0) {
                        assertEquals(0f, g, "gated latent " + i + " fired");
                        openEven += o > 0 ? 1 : 0;
                    } else {
                        assertEquals(o, g, "kept latent " + i);
                        openOdd += o > 0 ? 1 : 0;
                    }
                }
            }
            assertTrue(openEven > 0 && openOdd > 0, "both groups fire without the gate");
            @SuppressWarnings("unchecked")
            Map<String, Object> facts = (Map<String, Object>) gated.metadata().get("atmsae");
            assertEquals(N / 2, facts.get("atm_gated_latents"));
        }
    }
}
