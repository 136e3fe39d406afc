package dev.atmsae.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.train.InputScale;
import dev.atmsae.util.UserError;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    @Test
    void documentedDefaults() {
        TrainConfig j = TrainConfig.defaults(ArchKind.JUMPRELU);
        assertEquals(0.0, j.adamBeta1());
        assertEquals(0.05, j.jumpReluEps());
        assertEquals(0.01, j.jumpReluThetaInit());
        assertEquals(0.10, j.sparsityWarmupFrac());
        assertEquals(1.0, j.initDecNorm());
        TrainConfig a = TrainConfig.defaults(ArchKind.ATM);
        assertEquals(0.99, a.atmEmaBeta());
        assertEquals(1.0 / 3, a.atmWA());
        assertEquals(0.95, a.atmPMax());
        assertEquals(1000, a.atmMaskStart());
        assertEquals(500, a.atmMaskRamp());
        assertEquals("none", a.atmEvalMask());
        assertEquals(0.1, a.initDecNorm());
        assertEquals(1.5, a.l1Coeff());
        TrainConfig t = TrainConfig.defaults(ArchKind.TOPK).with("width", 65536);
        assertEquals(1e-4, t.effectiveLr(), 1e-15);     // 2e-4/√(2¹⁶/2¹⁴)
        assertEquals(1.0 / 32, t.auxKCoeff());
        assertEquals(0.01, TrainConfig.defaults(ArchKind.BATCHTOPK).batchTopKThetaRate());
        assertEquals(0.05, TrainConfig.defaults(ArchKind.RELU).sparsityWarmupFrac());
    }

    @Test
    void mapAndJsonRoundTripsAreExact() throws Exception {
        TrainConfig c = TrainConfig.defaults(ArchKind.ATM).with(Map.of("target_l0", 12.5, "seed", 1234567890123L,
                "atm_eval_mask", "gate", "lr", 3.3e-4));
        assertEquals(c, TrainConfig.fromMap(c.toMap()));
        ObjectMapper json = new ObjectMapper();
        @SuppressWarnings("unchecked")
        Map<String, Object> back = json.readValue(json.writeValueAsString(c.toMap()), Map.class);
        assertEquals(c, TrainConfig.fromMap(back));
        assertNull(TrainConfig.fromMap(Map.of("arch", "relu")).targetL0());
        assertEquals(64, TrainConfig.fromMap(Map.of("arch", "topk", "k", "64")).k());
    }

    @Test
    void badValuesAreOneLineUserErrors() {
        UserError e = assertThrows(UserError.class, () -> TrainConfig.defaults(ArchKind.ATM).with("atm_p_max", 1.5));
        assertTrue(e.getMessage().contains("atm_p_max"));
        assertThrows(UserError.class, () -> TrainConfig.defaults(ArchKind.TOPK).with("target_l0", 10.0));
        assertThrows(UserError.class, () -> TrainConfig.fromMap(Map.of("arch", "relu", "no_such_key", 1)));
        assertThrows(UserError.class, () -> TrainConfig.fromMap(Map.of("arch", "relu", "k", "abc")));
        assertThrows(UserError.class, () -> TrainConfig.fromMap(Map.of("arch", "relu", "width", 2.5)));
        assertThrows(UserError.class, () -> TrainConfig.fromMap(Map.of("arch", "gelu")));
        assertThrows(UserError.class, () -> TrainConfig.defaults(ArchKind.ATM).with("atm_eval_mask", "always"));
        assertTrue(!e.getMessage().contains("\n"));
        assertThrows(UserError.class, () -> TrainConfig.defaults(ArchKind.TOPK).with("width", 16));   // k = 32 > 16
        assertEquals(16, TrainConfig.defaults(ArchKind.RELU).with("width", 16).width());  // k unused by relu
    }

    @Test
    void geometricMedianMinimisesTheSumOfDistances() {
        int d = 3, rows = 40;
        float[] x = new float[rows * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (Philox.gaussian(3, 100, i) + (i % d == 0 && i < 15 ? 20 : 0)); // a few outliers
        }
        double[] m = GeometricMedian.of(x, d);
        double best = cost(x, d, m);
        for (int j = 0; j < d; j++) {
            for (double delta : new double[]{-1e-3, 1e-3}) {
                double[] y = m.clone();
                y[j] += delta;
                assertTrue(cost(x, d, y) > best, "perturbation lowers the cost");
            }
        }
        double[] mean = new double[d];
        for (int i = 0; i < x.length; i++) {
            mean[i % d] += x[i] / rows;
        }
        assertTrue(cost(x, d, mean) > best + 1e-3);
    }

    private static double cost(float[] x, int d, double[] y) {
        double c = 0;
        for (int b = 0; b < x.length / d; b++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += (x[b * d + j] - y[j]) * (x[b * d + j] - y[j]);
            }
            c += Math.sqrt(s);
        }
        return c;
    }

    @Test
    void inputScaleMakesTheMeanNormSqrtD() {
        int d = 16, rows = 50;
        float[] x = new float[rows * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (3.7 * Philox.gaussian(4, 100, i));
        }
        float s = InputScale.estimate(x, d);
        double mean = 0;
        for (int b = 0; b < rows; b++) {
            double ss = 0;
            for (int j = 0; j < d; j++) {
                ss += (s * x[b * d + j]) * (s * x[b * d + j]);
            }
            mean += Math.sqrt(ss) / rows;
        }
        assertEquals(Math.sqrt(d), mean, 1e-5);
        assertThrows(IllegalArgumentException.class, () -> InputScale.estimate(new float[d], d));
    }

    @Test
    void atmBaseTakesTheBaseDefaultsAndItsSparsityMechanism() {
        TrainConfig topk = TrainConfig.fromMap(Map.of("arch", "atm", "atm_base", "topk"));
        assertEquals(ArchKind.ATM, topk.arch());
        assertEquals(ArchKind.TOPK, topk.sparsityKind());
        assertEquals(TrainConfig.defaults(ArchKind.TOPK).lrWarmupSteps(), topk.lrWarmupSteps());
        assertEquals(TrainConfig.defaults(ArchKind.TOPK).effectiveLr(), topk.effectiveLr());
        assertEquals(0.0, topk.baseSparsityCoeff());
        TrainConfig jump = TrainConfig.fromMap(Map.of("arch", "atm", "atm_base", "jumprelu"));
        assertEquals(0.0, jump.adamBeta1());
        assertEquals(jump.l0Coeff(), jump.baseSparsityCoeff());
        assertEquals(ArchKind.ATM, TrainConfig.defaults(ArchKind.ATM).sparsityKind());
        assertEquals("relu", TrainConfig.defaults(ArchKind.ATM).atmBase());
        // the paper-faithful default is unchanged by the new keys
        TrainConfig atm = TrainConfig.defaults(ArchKind.ATM);
        assertEquals("token", atm.atmMaskMode());
        assertEquals(false, atm.atmRescale());
        assertEquals("linear", atm.atmMaskSchedule());
        // target_l0 belongs to coefficient-controlled mechanisms only
        UserError e = assertThrows(UserError.class,
                () -> TrainConfig.fromMap(Map.of("arch", "atm", "atm_base", "topk", "target_l0", 8)));
        assertTrue(e.getMessage().contains("target_l0"));
        assertEquals(8.0, TrainConfig.fromMap(Map.of("arch", "atm", "atm_base", "jumprelu", "target_l0", 8)).targetL0());
        // round trip of every new key, booleans from strings (command line)
        TrainConfig v = TrainConfig.fromMap(Map.of("arch", "atm", "atm_base", "batchtopk", "atm_mask_mode", "latent",
                "atm_rescale", "true", "atm_mask_schedule", "cosine", "atm_thresh_c", -0.5));
        assertEquals(v, TrainConfig.fromMap(v.toMap()));
        assertTrue(v.atmRescale());
        assertEquals(-0.5, v.atmThreshC());
    }

    @Test
    void badAtmVariantValuesAreOneLineUserErrors() {
        for (Map<String, Object> bad : java.util.List.<Map<String, Object>>of(
                Map.of("arch", "atm", "atm_base", "matryoshka-typo"),
                Map.of("arch", "atm", "atm_mask_mode", "row"),
                Map.of("arch", "atm", "atm_rescale", "yes"),
                Map.of("arch", "atm", "atm_mask_schedule", "step"),
                Map.of("arch", "atm", "atm_base", "topk", "atm_eval_mask", "gate"),
                Map.of("arch", "atm", "atm_preset", "best-typo"),
                Map.of("arch", "topk", "atm_preset", "best-typo"))) {
            UserError e = assertThrows(UserError.class, () -> TrainConfig.fromMap(bad), bad.toString());
            assertTrue(e.getMessage().startsWith("config: atm_"), e.getMessage());
        }
    }

    @Test
    void presetsApplyTheirKeysUnderTheCallersAndAreRecorded() {
        assertEquals(AtmPresets.PAPER, TrainConfig.defaults(ArchKind.ATM).atmPreset(), "atm.md stays the default");
        assertEquals(AtmPresets.PAPER, TrainConfig.defaults(ArchKind.ATM).toMap().get("atm_preset"));
        for (String name : AtmPresets.NAMES) {
            TrainConfig p = TrainConfig.fromMap(Map.of("arch", "atm", "atm_preset", name));
            assertEquals(name, p.atmPreset());
            Map<String, Object> resolved = p.toMap();
            AtmPresets.keys(name).forEach((key, value) ->
                    assertEquals(String.valueOf(value), String.valueOf(resolved.get(key)), name + ": " + key));
            assertEquals(p, TrainConfig.fromMap(p.toMap()), name + " round trip");
            // the caller's keys win over the preset's
            TrainConfig mine = TrainConfig.fromMap(Map.of("arch", "atm", "atm_preset", name, "atm_p_max", 0.42));
            assertEquals(0.42, mine.atmPMax());
        }
        for (String name : AtmPresets.NAMES.subList(1, AtmPresets.NAMES.size())) {
            UserError e = assertThrows(UserError.class,
                    () -> TrainConfig.fromMap(Map.of("arch", "topk", "atm_preset", name)), name);
            assertTrue(e.getMessage().contains("applies to arch atm only"), e.getMessage());
        }
        UserError e = assertThrows(UserError.class, () -> TrainConfig.fromMap(Map.of("arch", "relu", "atm_preset", "x")));
        assertTrue(e.getMessage().startsWith("config: atm_preset"), e.getMessage());
    }
}
