package dev.atmsae.core;

import dev.atmsae.util.UserError;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every hyperparameter of one SAE training run (architectures.md, atm.md), immutable. The map form ({@link #toMap()},
 * keys in snake_case, plain JSON-able values) is what the config file, checkpoints and the export's
 * {@code metadata.atmsae.config} hold; {@link #fromMap} starts from {@link #defaults} of the map's {@code arch} and
 * overrides the keys present, so old files keep working when a key is added. {@link #with} changes one key.
 *
 * <p>Values that depend on the run length (total optimizer steps T) are resolved by the {@code effective…} methods:
 * <ul>
 *   <li>{@code lr} null = the architecture's rule: topk/batchtopk/matryoshka 2e-4/√(n/2¹⁴), relu/atm 3e-4,
 *       jumprelu 2e-4.</li>
 *   <li>{@code lr_warmup_steps}: when T &lt; 10·warm-up, the warm-up is cut to 10% of T (so TopK's default 1000 steps
 *       does not eat a short run).</li>
 *   <li>{@code atm_mask_start}/{@code atm_mask_ramp}: when T &lt; 2·(start + ramp) they become 40% and 20% of T.</li>
 *   <li>{@code dead_window_tokens}: at most 10% of the run's tokens (T·B/10), at least one batch.</li>
 * </ul>
 * Sparsity warm-up: ATM uses 5% like its ReLU base [choice]; topk/batchtopk have no coefficient (0).
 *
 * <p>ATM's open choices (atm.md, last section) are keys too: {@code atm_base} (relu = atm.md's ReLU + L1; topk,
 * batchtopk, matryoshka, jumprelu = that base's code with the mask applied during training only, L0 from k or the
 * threshold, the base's own defaults via {@link #atmDefaults}), {@code atm_mask_mode} (token = independent per token
 * and latent, latent = one draw per latent for the whole batch), {@code atm_rescale} (kept codes × 1/(1 − p_i)),
 * {@code atm_mask_schedule} (linear or cosine ramp of r_t), besides the weights, β, c, r, p_max, start/ramp and the
 * evaluation gate.
 */
public record TrainConfig(
        ArchKind arch, int width, int k, double l1Coeff, double l0Coeff, Double targetL0,
        Double lr, double adamBeta1, double adamBeta2, double adamEps, long lrWarmupSteps, double lrDecayFrac,
        double sparsityWarmupFrac, double gradClip, int batchSize, long seed,
        double auxKCoeff, int auxKCap, long deadWindowTokens,
        double jumpReluEps, double jumpReluThetaInit, double batchTopKThetaRate,
        double atmEmaBeta, double atmWA, double atmWQ, double atmWR, double atmThreshC, double atmMaskRate,
        double atmPMax, long atmMaskStart, long atmMaskRamp, int atmStatsEvery, String atmEvalMask,
        double atmEvalGateP,
        double l0CtrlEta, double l0CtrlEma, double l0CtrlActiveFrac, double initDecNorm,
        String matryoshkaGroups, String matryoshkaLoss,
        String atmBase, String atmMaskMode, boolean atmRescale, String atmMaskSchedule, String atmPreset) {

    /** The sparsity mechanisms ATM's mask can be trained on ({@code atm_base}); "relu" is atm.md's ReLU + L1. */
    public static final java.util.List<String> ATM_BASES = java.util.List.of("relu", "topk", "batchtopk", "matryoshka",
            "jumprelu");

    public TrainConfig {
        check(width >= 1, "width", width, "must be ≥ 1");
        check(k >= 1, "k", k, "must be ≥ 1");
        check(atmBase != null && ATM_BASES.contains(atmBase), "atm_base", atmBase,
                "must be one of " + String.join(", ", ATM_BASES));
        check(k <= width || !sparsityKind(arch, atmBase).kControlled(), "k", k,
                "must not exceed width (" + width + ")");
        check(l1Coeff >= 0 && Double.isFinite(l1Coeff), "l1_coeff", l1Coeff, "must be ≥ 0");
        check(l0Coeff >= 0 && Double.isFinite(l0Coeff), "l0_coeff", l0Coeff, "must be ≥ 0");
        check(targetL0 == null || (targetL0 > 0 && targetL0 <= width), "target_l0", targetL0, "must be in (0, width]");
        check(targetL0 == null || sparsityKind(arch, atmBase).coefficientControlled(), "target_l0", targetL0,
                "applies to relu, atm and jumprelu only (topk/batchtopk, and atm on those bases, set L0 with k)");
        check(lr == null || (lr > 0 && lr < 1), "lr", lr, "must be in (0, 1)");
        check(adamBeta1 >= 0 && adamBeta1 < 1, "adam_beta1", adamBeta1, "must be in [0, 1)");
        check(adamBeta2 >= 0 && adamBeta2 < 1, "adam_beta2", adamBeta2, "must be in [0, 1)");
        check(adamEps > 0, "adam_eps", adamEps, "must be > 0");
        check(lrWarmupSteps >= 0, "lr_warmup_steps", lrWarmupSteps, "must be ≥ 0");
        check(lrDecayFrac >= 0 && lrDecayFrac <= 1, "lr_decay_frac", lrDecayFrac, "must be in [0, 1]");
        check(sparsityWarmupFrac >= 0 && sparsityWarmupFrac <= 1, "sparsity_warmup_frac", sparsityWarmupFrac,
                "must be in [0, 1]");
        check(gradClip > 0, "grad_clip", gradClip, "must be > 0");
        check(batchSize >= 1, "batch_size", batchSize, "must be ≥ 1");
        check(auxKCoeff >= 0, "aux_k_coeff", auxKCoeff, "must be ≥ 0");
        check(auxKCap >= 0, "aux_k_cap", auxKCap, "must be ≥ 0");
        check(deadWindowTokens >= 1, "dead_window_tokens", deadWindowTokens, "must be ≥ 1");
        check(jumpReluEps > 0, "jumprelu_eps", jumpReluEps, "must be > 0");
        check(jumpReluThetaInit > 0, "jumprelu_theta_init", jumpReluThetaInit, "must be > 0");
        check(batchTopKThetaRate > 0 && batchTopKThetaRate <= 1, "batchtopk_theta_rate", batchTopKThetaRate,
                "must be in (0, 1]");
        check(atmEmaBeta >= 0 && atmEmaBeta < 1, "atm_ema_beta", atmEmaBeta, "must be in [0, 1)");
        check(atmWA >= 0 && atmWQ >= 0 && atmWR >= 0 && atmWA + atmWQ + atmWR > 0, "atm_w_a/atm_w_q/atm_w_r",
                atmWA + "/" + atmWQ + "/" + atmWR, "must be ≥ 0 and not all 0");
        check(Double.isFinite(atmThreshC), "atm_thresh_c", atmThreshC, "must be finite");
        check(atmMaskRate >= 0, "atm_mask_rate", atmMaskRate, "must be ≥ 0");
        check(atmPMax >= 0 && atmPMax <= 1, "atm_p_max", atmPMax, "must be in [0, 1]");
        check(atmMaskStart >= 0, "atm_mask_start", atmMaskStart, "must be ≥ 0");
        check(atmMaskRamp >= 0, "atm_mask_ramp", atmMaskRamp, "must be ≥ 0");
        check(atmStatsEvery >= 1, "atm_stats_every", atmStatsEvery, "must be ≥ 1");
        check("none".equals(atmEvalMask) || "gate".equals(atmEvalMask), "atm_eval_mask", atmEvalMask,
                "must be none or gate");
        check(atmEvalGateP > 0 && atmEvalGateP <= 1, "atm_eval_gate_p", atmEvalGateP, "must be in (0, 1]");
        check(l0CtrlEta > 0, "l0_ctrl_eta", l0CtrlEta, "must be > 0");
        check(l0CtrlEma >= 0 && l0CtrlEma < 1, "l0_ctrl_ema", l0CtrlEma, "must be in [0, 1)");
        check(l0CtrlActiveFrac >= 0 && l0CtrlActiveFrac <= 1, "l0_ctrl_active_frac", l0CtrlActiveFrac,
                "must be in [0, 1]");
        check(initDecNorm > 0, "init_dec_norm", initDecNorm, "must be > 0");
        check(MATRYOSHKA_EQUAL.equals(matryoshkaLoss) || MATRYOSHKA_SAELENS.equals(matryoshkaLoss),
                "matryoshka_loss", matryoshkaLoss, "must be " + MATRYOSHKA_EQUAL + " or " + MATRYOSHKA_SAELENS);
        if (sparsityKind(arch, atmBase) == ArchKind.MATRYOSHKA) {
            MatryoshkaGroups.ends(matryoshkaGroups, width); // one-line UserError naming the setting
        }
        AtmPresets.keys(atmPreset); // an unknown name is a one-line UserError naming atm_preset
        check(arch == ArchKind.ATM || AtmPresets.PAPER.equals(atmPreset), "atm_preset", atmPreset,
                "applies to arch atm only");
        check("token".equals(atmMaskMode) || "latent".equals(atmMaskMode), "atm_mask_mode", atmMaskMode,
                "must be token (per token and latent) or latent (per latent, whole batch)");
        check("linear".equals(atmMaskSchedule) || "cosine".equals(atmMaskSchedule), "atm_mask_schedule",
                atmMaskSchedule, "must be linear or cosine");
        check(!"gate".equals(atmEvalMask) || arch != ArchKind.ATM || !"topk".equals(atmBase), "atm_eval_mask", atmEvalMask,
                "gate needs a threshold export (atm_base relu, batchtopk, matryoshka or jumprelu); SAELens topk has none");
    }

    /** {@code matryoshka_loss}: w_m = 1/M over the M prefixes (dictionary_learning; the default). */
    public static final String MATRYOSHKA_EQUAL = "equal";
    /** {@code matryoshka_loss}: full-width MSE + the unweighted sum of inner-prefix MSEs (SAELens since PR #571). */
    public static final String MATRYOSHKA_SAELENS = "saelens";

    /** Matryoshka group ends (exclusive prefix widths, the last = width) of {@code matryoshka_groups}. */
    public int[] matryoshkaGroupEnds() {
        return MatryoshkaGroups.ends(matryoshkaGroups, width);
    }

    private static void check(boolean ok, String key, Object value, String why) {
        if (!ok) {
            throw new UserError("config: " + key + " = " + value + " " + why);
        }
    }

    /** The documented defaults for one architecture (architectures.md, atm.md). */
    public static TrainConfig defaults(ArchKind arch) {
        boolean reluBase = arch == ArchKind.RELU || arch == ArchKind.ATM;
        boolean topkFamily = arch.kControlled();
        double sparsityWarmup = switch (arch) {
            case RELU, ATM -> 0.05;
            case JUMPRELU -> 0.10;
            case TOPK, BATCHTOPK, MATRYOSHKA -> 0.0;
        };
        return new TrainConfig(arch, 4096, 32, arch == ArchKind.RELU ? 5.0 : 1.5, 1.0, null,
                null, arch == ArchKind.JUMPRELU ? 0.0 : 0.9, 0.999, 1e-8, topkFamily ? 1000 : 0, 0.2,
                sparsityWarmup, 1.0, 4096, 42L,
                1.0 / 32, 512, 10_000_000L,
                0.05, 0.01, 0.01,
                0.99, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0, 1.0,
                0.95, 1000, 500, 1, "none",
                0.5,
                0.02, 0.9, 0.8, reluBase ? 0.1 : 1.0,
                MatryoshkaGroups.AUTO, MATRYOSHKA_EQUAL,
                "relu", "token", false, "linear", AtmPresets.PAPER);
    }

    /**
     * The defaults of ATM on {@code atm_base}: those of the base architecture (its lr rule, warm-ups, Adam β1,
     * decoder init, coefficient) with arch = atm and the ATM keys at their atm.md defaults. Base "relu" is
     * {@link #defaults defaults(ATM)}.
     */
    public static TrainConfig atmDefaults(String atmBase) {
        if ("relu".equals(atmBase)) {
            return defaults(ArchKind.ATM);
        }
        if (!ATM_BASES.contains(atmBase)) {
            throw new UserError("config: atm_base = " + atmBase + " must be one of " + String.join(", ", ATM_BASES));
        }
        Map<String, Object> m = defaults(ArchKind.parse(atmBase)).toMap();
        m.put("arch", ArchKind.ATM.id());
        m.put("atm_base", atmBase);
        return build(m);
    }

    /**
     * The architecture whose sparsity mechanism a run trains: arch itself, except ATM on a topk, batchtopk, matryoshka
     * or jumprelu base ({@code atm_base}), which trains that base's code (L0 from k or the threshold) with ATM's mask on top.
     * ATM on its ReLU base is ATM (L1 coefficient, target-L0 controller).
     */
    public ArchKind sparsityKind() {
        return sparsityKind(arch, atmBase);
    }

    /** {@link #sparsityKind()} of the configuration a map of keys describes (arch and atm_base, before validation). */
    public static ArchKind sparsityKindOf(Map<String, ?> map) {
        Object arch = map.get("arch");
        Object base = map.get("atm_base");
        return sparsityKind(ArchKind.parse(String.valueOf(arch)), base == null ? "relu" : base.toString());
    }

    private static ArchKind sparsityKind(ArchKind arch, String atmBase) {
        return arch != ArchKind.ATM || "relu".equals(atmBase) ? arch : ArchKind.parse(atmBase);
    }

    // ------------------------------------------------------------------ values resolved against the run length

    /** The learning rate, resolving null to the architecture's rule (class comment). */
    public double effectiveLr() {
        if (lr != null) {
            return lr;
        }
        return switch (sparsityKind()) {
            case TOPK, BATCHTOPK, MATRYOSHKA -> 2e-4 / Math.sqrt(width / 16384.0);
            case RELU, ATM -> 3e-4;
            case JUMPRELU -> 2e-4;
        };
    }

    public long effectiveLrWarmupSteps(long totalSteps) {
        return totalSteps < 10 * lrWarmupSteps ? totalSteps / 10 : lrWarmupSteps;
    }

    private boolean shortAtmRun(long totalSteps) {
        return totalSteps < 2 * (atmMaskStart + atmMaskRamp);
    }

    /** Steps before ATM masking starts (short-run rule: 40% of the run). */
    public long effectiveMaskStart(long totalSteps) {
        return shortAtmRun(totalSteps) ? Math.round(0.4 * totalSteps) : atmMaskStart;
    }

    /** Steps over which the ATM mask rate ramps from 0 to r (short-run rule: 20% of the run, at least 1). */
    public long effectiveMaskRamp(long totalSteps) {
        return shortAtmRun(totalSteps) ? Math.max(1, Math.round(0.2 * totalSteps)) : atmMaskRamp;
    }

    public long effectiveDeadWindowTokens(long totalSteps) {
        long tenth = totalSteps * (long) batchSize / 10;
        return Math.max(batchSize, Math.min(deadWindowTokens, tenth));
    }

    /** The sparsity coefficient the architecture starts from (l1 for relu/atm, L0 for jumprelu, 0 otherwise). */
    public double baseSparsityCoeff() {
        return switch (sparsityKind()) {
            case RELU, ATM -> l1Coeff;
            case JUMPRELU -> l0Coeff;
            case TOPK, BATCHTOPK, MATRYOSHKA -> 0.0;
        };
    }

    // ------------------------------------------------------------------ map form

    /** All values as plain JSON-able objects (String, Integer, Long, Double, null), snake_case keys, stable order. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch.id());
        m.put("width", width);
        m.put("k", k);
        m.put("l1_coeff", l1Coeff);
        m.put("l0_coeff", l0Coeff);
        m.put("target_l0", targetL0);
        m.put("lr", lr);
        m.put("adam_beta1", adamBeta1);
        m.put("adam_beta2", adamBeta2);
        m.put("adam_eps", adamEps);
        m.put("lr_warmup_steps", lrWarmupSteps);
        m.put("lr_decay_frac", lrDecayFrac);
        m.put("sparsity_warmup_frac", sparsityWarmupFrac);
        m.put("grad_clip", gradClip);
        m.put("batch_size", batchSize);
        m.put("seed", seed);
        m.put("aux_k_coeff", auxKCoeff);
        m.put("aux_k_cap", auxKCap);
        m.put("dead_window_tokens", deadWindowTokens);
        m.put("jumprelu_eps", jumpReluEps);
        m.put("jumprelu_theta_init", jumpReluThetaInit);
        m.put("batchtopk_theta_rate", batchTopKThetaRate);
        m.put("atm_ema_beta", atmEmaBeta);
        m.put("atm_w_a", atmWA);
        m.put("atm_w_q", atmWQ);
        m.put("atm_w_r", atmWR);
        m.put("atm_thresh_c", atmThreshC);
        m.put("atm_mask_rate", atmMaskRate);
        m.put("atm_p_max", atmPMax);
        m.put("atm_mask_start", atmMaskStart);
        m.put("atm_mask_ramp", atmMaskRamp);
        m.put("atm_stats_every", atmStatsEvery);
        m.put("atm_eval_mask", atmEvalMask);
        m.put("atm_eval_gate_p", atmEvalGateP);
        m.put("l0_ctrl_eta", l0CtrlEta);
        m.put("l0_ctrl_ema", l0CtrlEma);
        m.put("l0_ctrl_active_frac", l0CtrlActiveFrac);
        m.put("init_dec_norm", initDecNorm);
        m.put("matryoshka_groups", matryoshkaGroups);
        m.put("matryoshka_loss", matryoshkaLoss);
        m.put("atm_base", atmBase);
        m.put("atm_mask_mode", atmMaskMode);
        m.put("atm_rescale", atmRescale);
        m.put("atm_mask_schedule", atmMaskSchedule);
        m.put("atm_preset", atmPreset);
        return m;
    }

    /** The keys {@link #toMap()} writes, for CLI help and for rejecting unknown keys. */
    public static java.util.Set<String> keys() {
        return defaults(ArchKind.RELU).toMap().keySet();
    }

    /**
     * Defaults of {@code map.get("arch")} overridden by the keys present. Numbers may arrive as any Number or as a
     * numeric String (command-line values). Unknown keys and bad values raise {@link UserError}.
     */
    public static TrainConfig fromMap(Map<String, ?> map) {
        Object archValue = map.get("arch");
        if (archValue == null) {
            throw new UserError("config: missing key 'arch'");
        }
        ArchKind archKind = ArchKind.parse(archValue.toString());
        Object preset = map.get("atm_preset");
        Map<String, Object> presetKeys = archKind == ArchKind.ATM && preset != null ? AtmPresets.keys(preset.toString())
                : Map.of();
        Object base = map.containsKey("atm_base") ? map.get("atm_base") : presetKeys.get("atm_base");
        Map<String, Object> m = (archKind == ArchKind.ATM && base != null ? atmDefaults(base.toString())
                : defaults(archKind)).toMap();
        m.putAll(presetKeys); // a named preset's keys, then the caller's own (which win)
        for (Map.Entry<String, ?> e : map.entrySet()) {
            if (!m.containsKey(e.getKey())) {
                throw new UserError("config: unknown key '" + e.getKey() + "' (known: " + String.join(", ", m.keySet()) + ")");
            }
            m.put(e.getKey(), e.getValue());
        }
        if (m.get("matryoshka_groups") instanceof java.util.List<?> list) { // a JSON list in a config file
            m.put("matryoshka_groups", String.join(",", list.stream().map(String::valueOf).toList()));
        }
        return build(m);
    }

    /** The config of a complete key map (every key present). */
    private static TrainConfig build(Map<String, Object> m) {
        Reader r = new Reader(m);
        return new TrainConfig(ArchKind.parse(r.str("arch")), r.i("width"), r.i("k"), r.d("l1_coeff"),
                r.d("l0_coeff"), r.dOrNull("target_l0"), r.dOrNull("lr"), r.d("adam_beta1"), r.d("adam_beta2"),
                r.d("adam_eps"), r.l("lr_warmup_steps"), r.d("lr_decay_frac"), r.d("sparsity_warmup_frac"),
                r.d("grad_clip"), r.i("batch_size"), r.l("seed"), r.d("aux_k_coeff"), r.i("aux_k_cap"),
                r.l("dead_window_tokens"), r.d("jumprelu_eps"), r.d("jumprelu_theta_init"),
                r.d("batchtopk_theta_rate"), r.d("atm_ema_beta"), r.d("atm_w_a"), r.d("atm_w_q"), r.d("atm_w_r"),
                r.d("atm_thresh_c"), r.d("atm_mask_rate"), r.d("atm_p_max"), r.l("atm_mask_start"),
                r.l("atm_mask_ramp"), r.i("atm_stats_every"), r.str("atm_eval_mask"), r.d("atm_eval_gate_p"),
                r.d("l0_ctrl_eta"), r.d("l0_ctrl_ema"), r.d("l0_ctrl_active_frac"), r.d("init_dec_norm"),
                r.str("matryoshka_groups"), r.str("matryoshka_loss"),
                r.str("atm_base"), r.str("atm_mask_mode"), r.bool("atm_rescale"), r.str("atm_mask_schedule"),
                r.str("atm_preset"));
    }

    /**
     * {@link #fromMap} for settings a user gave (command-line options, the API's builder): when the architecture
     * takes no k (relu, atm, jumprelu) and none is given, k's default is capped at the width so the unused k never
     * fails the k ≤ width check on narrow SAEs.
     */
    public static TrainConfig fromSettings(Map<String, ?> settings) {
        Object archValue = settings.get("arch");
        if (archValue == null || settings.containsKey("k") || settings.get("width") == null) {
            return fromMap(settings);
        }
        ArchKind kind = ArchKind.parse(archValue.toString());
        if (kind.kControlled()) {
            return fromMap(settings);
        }
        Map<String, Object> m = new LinkedHashMap<>(settings);
        int width = new Reader(m).i("width");
        m.put("k", Math.max(1, Math.min(defaults(kind).k(), width)));
        return fromMap(m);
    }

    /** A copy with one key changed (same key names and value rules as {@link #fromMap}). */
    public TrainConfig with(String key, Object value) {
        Map<String, Object> m = toMap();
        if (!m.containsKey(key)) {
            throw new UserError("config: unknown key '" + key + "'");
        }
        m.put(key, value);
        return fromMap(m);
    }

    /** A copy with several keys changed. */
    public TrainConfig with(Map<String, ?> changes) {
        Map<String, Object> m = toMap();
        m.putAll(changes);
        return fromMap(m);
    }

    /** Typed access to a loosely-typed map, each failure a one-line {@link UserError} naming the key. */
    private record Reader(Map<String, Object> m) {
        String str(String key) {
            Object v = m.get(key);
            if (v == null) {
                throw new UserError("config: " + key + " must not be null");
            }
            return v.toString();
        }

        boolean bool(String key) {
            Object v = m.get(key);
            if (v instanceof Boolean b) {
                return b;
            }
            String text = str(key).trim();
            if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(text);
            }
            throw new UserError("config: " + key + " = " + v + " must be true or false");
        }

        double d(String key) {
            Object v = m.get(key);
            if (v instanceof Number num) {
                return num.doubleValue();
            }
            try {
                return Double.parseDouble(str(key).trim());
            } catch (NumberFormatException e) {
                throw new UserError("config: " + key + " = " + v + " is not a number");
            }
        }

        Double dOrNull(String key) {
            Object v = m.get(key);
            if (v == null || (v instanceof String s && (s.isBlank() || s.equalsIgnoreCase("null")
                    || s.equalsIgnoreCase("auto") || s.equalsIgnoreCase("none")))) {
                return null;
            }
            return d(key);
        }

        long l(String key) {
            Object v = m.get(key);
            if (v instanceof Long || v instanceof Integer || v instanceof Short) {
                return ((Number) v).longValue();
            }
            if (v instanceof String s) {
                try {
                    return Long.parseLong(s.trim());
                } catch (NumberFormatException e) {
                    // fall through: "1e6" is a valid integer written as a double
                }
            }
            double x = d(key);
            if (x != Math.rint(x) || Math.abs(x) > 9.0e15) {
                throw new UserError("config: " + key + " = " + m.get(key) + " is not an integer");
            }
            return (long) x;
        }

        int i(String key) {
            long x = l(key);
            if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                throw new UserError("config: " + key + " = " + x + " is out of range");
            }
            return (int) x;
        }
    }
}
