package dev.atmsae.gpucheck;

import dev.atmsae.arch.Sae;
import dev.atmsae.arch.SaeFactory;
import dev.atmsae.arch.StepMetrics;
import dev.atmsae.core.ArchKind;
import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Two engines train the same SAE (same config, same Philox init, same batches, ATM masking on from step 1) for a
 * few steps; their step metrics and every state tensor (weights, Adam moments, per-architecture state) must agree.
 *
 * <p>Tolerances, stated: loss parts and L0 within 1e-3 relative. A state tensor passes when at most 1% of its
 * entries differ by more than 1e-3 relative (+1e-6 absolute) and none by more than 4.2·lr (Adam moves a weight by at
 * most ≈ lr per step; an entry whose gradient is ≈ 0 may legitimately flip its step's sign between engines).
 * Validated without a GPU by comparing two differently-built CPU engines (StepParityOnCpuTest).
 */
public final class StepParity {
    private static final int D = 40;
    private static final int N = 96;
    private static final int B = 16;
    private static final int K = 8;
    private static final int STEPS = 3;

    private StepParity() {
    }

    /** Empty string when the engines agree, else a description of the first disagreement. */
    public static String compare(Engine a, Engine b, ArchKind arch) {
        return compare(a, b, arch, 1f);
    }

    /**
     * ATM's variants (atm_base, mask mode, rescaling, schedule) that run different kernels or kernel sequences from
     * the paper-faithful default, by name; {@link #compareAtmVariant} runs one.
     */
    public static final Map<String, Map<String, Object>> ATM_VARIANTS = Map.of(
            "atm relu base, latent mode, rescale", Map.of("atm_mask_mode", "latent", "atm_rescale", true),
            "atm topk base, rescale", Map.of("atm_base", "topk", "atm_rescale", true),
            "atm topk base, latent mode", Map.of("atm_base", "topk", "atm_mask_mode", "latent"),
            "atm batchtopk base", Map.of("atm_base", "batchtopk"),
            "atm matryoshka base, rescale", Map.of("atm_base", "matryoshka", "atm_rescale", true),
            "atm jumprelu base, rescale, cosine ramp", Map.of("atm_base", "jumprelu", "atm_rescale", true,
                    "atm_mask_schedule", "cosine"));

    /** {@link #compare(Engine, Engine, ArchKind)} for one of {@link #ATM_VARIANTS}. */
    public static String compareAtmVariant(Engine a, Engine b, String variant) {
        Map<String, Object> keys = ATM_VARIANTS.get(variant);
        if (keys == null) {
            throw new IllegalArgumentException("unknown ATM variant " + variant);
        }
        return compare(a, b, ArchKind.ATM, 1f, keys);
    }

    /** As {@link #compare(Engine, Engine, ArchKind)} with engine b's batches scaled by {@code scaleB} (tests). */
    static String compare(Engine a, Engine b, ArchKind arch, float scaleB) {
        return compare(a, b, arch, scaleB, Map.of());
    }

    private static String compare(Engine a, Engine b, ArchKind arch, float scaleB, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch.id());
        m.put("width", N);
        m.put("k", K);
        m.put("batch_size", B);
        m.put("atm_mask_start", 0);
        m.put("atm_mask_ramp", 1);
        m.putAll(extra);
        TrainConfig cfg = TrainConfig.fromMap(m);
        float[][] xs = new float[STEPS][B * D];
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < B * D; i++) {
                xs[s][i] = (float) (1.0 + Philox.gaussian(11, Philox.STREAM_SYNTH, (long) s * B * D + i));
            }
        }
        try (Sae sa = SaeFactory.create(a, cfg, D, 1000, xs[0]); Sae sb = SaeFactory.create(b, cfg, D, 1000, xs[0]);
             Tensor xa = a.allocF32(B, D); Tensor xb = b.allocF32(B, D)) {
            double maxLr = 0;
            for (int s = 0; s < STEPS; s++) {
                a.upload(xa, xs[s]);
                float[] xsb = xs[s].clone();
                for (int i = 0; i < xsb.length; i++) {
                    xsb[i] *= scaleB;
                }
                b.upload(xb, xsb);
                StepMetrics ma = sa.trainStep(xa, s + 1), mb = sb.trainStep(xb, s + 1);
                maxLr = Math.max(maxLr, ma.lr());
                String bad = metric("mse", ma.mse(), mb.mse()) + metric("sparsityLoss", ma.sparsityLoss(), mb.sparsityLoss())
                        + metric("auxLoss", ma.auxLoss(), mb.auxLoss()) + metric("l0", ma.l0(), mb.l0())
                        + metric("l0Masked", ma.l0Masked(), mb.l0Masked()) + metric("meanP", ma.meanP(), mb.meanP());
                if (!bad.isEmpty()) {
                    return arch.id() + " step " + (s + 1) + ":" + bad;
                }
            }
            Map<String, Tensor> ta = sa.stateTensors(), tb = sb.stateTensors();
            if (!ta.keySet().equals(tb.keySet())) {
                return arch.id() + ": state tensors " + ta.keySet() + " vs " + tb.keySet();
            }
            for (String name : ta.keySet()) {
                String bad = tensor(a, ta.get(name), b, tb.get(name), 4.2 * maxLr);
                if (!bad.isEmpty()) {
                    return arch.id() + " " + name + ": " + bad;
                }
            }
        }
        return "";
    }

    private static String metric(String name, double x, double y) {
        return Math.abs(x - y) <= 1e-3 * Math.max(Math.abs(x), Math.abs(y)) + 1e-9 ? ""
                : " " + name + " " + x + " vs " + y;
    }

    private static String tensor(Engine a, Tensor x, Engine b, Tensor y, double maxAbs) {
        if (x.dtype() != y.dtype() || x.size() != y.size()) {
            return "shape/dtype differ";
        }
        double[] u = read(a, x), v = read(b, y);
        int off = 0;
        double worst = 0;
        for (int i = 0; i < u.length; i++) {
            double diff = Math.abs(u[i] - v[i]);
            worst = Math.max(worst, diff);
            if (diff > 1e-3 * 0.5 * (Math.abs(u[i]) + Math.abs(v[i])) + 1e-6) {
                off++;
            }
        }
        if (off > 0.01 * u.length || (x.dtype() == Tensor.DType.F32 && worst > Math.max(maxAbs, 1e-6))) {
            return off + " of " + u.length + " entries differ, worst by " + worst + " (bound " + maxAbs + ")";
        }
        return "";
    }

    private static double[] read(Engine e, Tensor t) {
        double[] out = new double[(int) t.size()];
        if (t.dtype() == Tensor.DType.F32) {
            float[] f = new float[out.length];
            e.download(t, f);
            for (int i = 0; i < f.length; i++) {
                out[i] = f[i];
            }
        } else {
            int[] n = new int[out.length];
            e.download(t, n);
            for (int i = 0; i < n.length; i++) {
                out[i] = n[i];
            }
        }
        return out;
    }
}
