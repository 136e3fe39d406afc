package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ATM's variants (atm_base × mask mode × rescaling): (1) the float64 reference gradient with a fixed mask (and fixed
 * rescale factors) against central finite differences; (2) one engine step, masking on, against the reference with
 * the mask the engine must draw — the same checks and tolerances as {@link ArchGradientTest}.
 */
class AtmVariantGradientTest {
    static List<Map<String, Object>> variants() {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (String base : TrainConfig.ATM_BASES) {
            for (boolean rescale : new boolean[] {false, true}) {
                for (String mode : new String[] {"token", "latent"}) {
                    Map<String, Object> v = new LinkedHashMap<>();
                    v.put("atm_base", base);
                    v.put("atm_rescale", rescale);
                    v.put("atm_mask_mode", mode);
                    out.add(v);
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("variants")
    void referenceGradientWithAFixedMaskMatchesFiniteDifferences(Map<String, Object> variant) {
        TrainConfig cfg = config(variant);
        RefSae.Ctx c = ArchGradientTest.ctx(ArchKind.ATM, cfg.sparsityKind());
        int n = ArchGradientTest.N;
        if ("latent".equals(cfg.atmMaskMode())) {
            for (int t = 0; t < c.kept.length; t++) {
                c.kept[t] = Philox.uniform(5, 104, t % n) < 0.7;
            }
        }
        if (cfg.atmRescale()) {
            c.scale = new double[n];
            for (int i = 0; i < n; i++) {
                c.scale[i] = 1.0 / (1.0 - 0.6 * Philox.uniform(5, 105, i));
            }
        }
        int keptCount = 0;
        for (boolean k : c.kept) {
            keptCount += k ? 1 : 0;
        }
        assertTrue(keptCount > 0 && keptCount < c.kept.length, "the fixed mask keeps some entries and drops some");
        ArchGradientTest.checkFiniteDifferences(c);
    }

    @ParameterizedTest
    @MethodSource("variants")
    void engineStepMatchesReference(Map<String, Object> variant) {
        ArchGradientTest.checkEngineStep(config(variant));
    }

    private static TrainConfig config(Map<String, Object> variant) {
        return TrainConfig.atmDefaults((String) variant.get("atm_base")).with(ArchGradientTest.testKeys()).with(variant);
    }
}
