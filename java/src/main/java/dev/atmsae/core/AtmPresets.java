package dev.atmsae.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named ATM configurations ({@code atm_preset}): a preset is a set of TrainConfig keys applied before the caller's
 * own keys (which win); its name is recorded in cfg.json with every resolved key.
 *
 * <p>{@link #PAPER} is atm.md as written (ReLU + L1 base, token-level mask, no rescaling, linear ramp) and stays the
 * default: the matched-L0 study of issue 10 ({@code docs/atm-study.md}) found no ATM configuration that beats TopK,
 * BatchTopK and Matryoshka on absorption without paying in reconstruction, so no preset earned the default. The
 * other presets are the study's best configurations, for whoever wants to reproduce or build on them.
 */
public final class AtmPresets {
    /** atm.md's ATM: every ATM key at its documented default. */
    public static final String PAPER = "paper";

    /**
     * The study's best: ATM's mask at rate r = 0.3 on a BatchTopK code (stage 1 rank 1: parent-silence 0.10 vs
     * BatchTopK's 0.28 at L0 16, FVU +3% there and +24% at L0 32; it does not beat BatchTopK on full absorption).
     */
    public static final String BATCHTOPK_R03 = "batchtopk-r0.3";

    private static final Map<String, Map<String, Object>> PRESETS = presets();

    /** Every preset name, the default first. */
    public static final List<String> NAMES = List.copyOf(PRESETS.keySet());

    private AtmPresets() {
    }

    private static Map<String, Map<String, Object>> presets() {
        Map<String, Map<String, Object>> m = new LinkedHashMap<>();
        m.put(PAPER, Map.of());
        m.put(BATCHTOPK_R03, Map.of("atm_base", "batchtopk", "atm_mask_rate", 0.3));
        return m;
    }

    /** The keys of preset {@code name}; a one-line {@link dev.atmsae.util.UserError} for an unknown name. */
    public static Map<String, Object> keys(String name) {
        Map<String, Object> keys = PRESETS.get(name);
        if (keys == null) {
            throw new dev.atmsae.util.UserError("config: atm_preset = " + name + " must be one of "
                    + String.join(", ", PRESETS.keySet()));
        }
        return keys;
    }
}
