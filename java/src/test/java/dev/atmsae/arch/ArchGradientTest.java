package dev.atmsae.arch;

import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.train.Philox;
import dev.atmsae.train.Schedules;
import dev.atmsae.train.TrainConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradients of every architecture: (1) the float64 reference's analytic gradient against central finite differences
 * (JumpReLU: the non-θ parameters by FD, since the STE defines ∂H/∂π := 0; the θ part is the reference formula);
 * (2) one engine {@link Sae#trainStep} from the same state against reference gradient + projection + clip + Adam.
 * Tolerances: FD |fd − g| ≤ 1e-6·(1 + |g|); engine vs float64: gradients (read back from Adam's first moment)
 * ≤ 2e-5·max|g| per entry, parameters ≤ 1e-6 + 1e-3·lr (Adam eps is 1e-3 here so the update is a smooth function of g).
 */
class ArchGradientTest {
    static final int D = 8, N = 16, B = 4;
    static final long TOTAL = 100, STEP = 50;
    static final double LR = 1e-2, ADAM_EPS = 1e-3;

    static RefSae.Ctx ctx(ArchKind arch) {
        return ctx(arch, N, B);
    }

    static RefSae.Ctx ctx(ArchKind arch, int N, int B) {
        RefSae.Ctx c = new RefSae.Ctx();
        c.arch = arch;
        c.coeff = arch == ArchKind.JUMPRELU ? 0.3 : 0.7;
        c.k = 3;
        c.eps = 0.5;
        c.auxCap = 512;
        c.auxCoeff = arch == ArchKind.TOPK || arch == ArchKind.BATCHTOPK ? 0.5 : 0;
        c.dead = new boolean[N];
        for (int i = 0; i < N; i += 3) {
            c.dead[i] = true;
        }
        c.kept = new boolean[B * N];
        for (int t = 0; t < B * N; t++) {
            c.kept[t] = Philox.uniform(5, 102, t) < 0.7;
        }
        return c;
    }

    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void referenceGradientMatchesFiniteDifferences(ArchKind arch) {
        RefSae ref = RefSae.random(D, N, 7);
        double[] x = RefSae.randomRows(B, D, 8);
        RefSae.Ctx c = ctx(arch);
        RefSae.Result r = ref.eval(c, x, B);
        c.frozenE = r.e.clone();
        c.frozenV = RefSae.variance(r.e, B);
        double[] p0 = ref.flat();
        int thetaStart = ref.size() - N;
        double step = 1e-5;
        int checked = 0;
        double maxG = 0;
        for (int k = 0; k < (arch == ArchKind.JUMPRELU ? thetaStart : ref.size()); k++) {
            double[] p = p0.clone();
            p[k] = p0[k] + step;
            ref.setFlat(p);
            double up = ref.eval(c, x, B).loss;
            p[k] = p0[k] - step;
            ref.setFlat(p);
            double down = ref.eval(c, x, B).loss;
            double fd = (up - down) / (2 * step);
            assertEquals(r.grad[k], fd, 1e-6 * (1 + Math.abs(r.grad[k])), arch + " parameter " + k);
            maxG = Math.max(maxG, Math.abs(r.grad[k]));
            checked++;
        }
        ref.setFlat(p0);
        assertTrue(maxG > 1e-3, "gradient is not trivially zero");
        if (arch == ArchKind.TOPK || arch == ArchKind.BATCHTOPK) {
            assertTrue(r.aux > 0, "AuxK is exercised");
        }
        if (arch == ArchKind.JUMPRELU) {
            double thetaGrad = 0;
            for (int i = thetaStart; i < ref.size(); i++) {
                thetaGrad += Math.abs(r.grad[i]);
            }
            assertTrue(thetaGrad > 0, "some pre-activation lies inside the STE window");
        }
        assertTrue(checked > 200);
    }

    static TrainConfig config(ArchKind arch) {
        return config(arch, N, B);
    }

    static TrainConfig config(ArchKind arch, int N, int B) {
        Map<String, Object> m = new HashMap<>();
        m.put("width", N);
        m.put("k", 3);
        m.put("batch_size", B);
        m.put("lr", LR);
        m.put("adam_eps", ADAM_EPS);
        m.put("lr_warmup_steps", 0);
        m.put("l1_coeff", 0.7);
        m.put("l0_coeff", 0.3);
        m.put("jumprelu_eps", 0.5);
        m.put("aux_k_coeff", 0.5);
        return TrainConfig.defaults(arch).with(m);
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    static double[] toDouble(float[] a) {
        double[] f = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = a[i];
        }
        return f;
    }

    /** Uploads the reference parameters into the SAE (Adam moments stay zero: a fresh optimizer). */
    static void load(CpuEngine e, Sae sae, RefSae ref) {
        Map<String, Tensor> t = sae.stateTensors();
        e.upload(t.get("W_enc"), toFloat(ref.wEnc));
        e.upload(t.get("b_enc"), toFloat(ref.bEnc));
        e.upload(t.get("W_dec"), toFloat(ref.wDec));
        e.upload(t.get("b_dec"), toFloat(ref.bDec));
        if (t.containsKey("log_threshold")) {
            e.upload(t.get("log_threshold"), toFloat(ref.logTheta));
        }
    }

    /** The reference's parameters rounded to float32 (what the engine actually holds). */
    static RefSae rounded(RefSae ref) {
        RefSae r = new RefSae(ref.d, ref.n);
        double[] p = ref.flat();
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) p[i];
        }
        r.setFlat(p);
        return r;
    }

    /** A test problem: widths, batch rows, and a shift of b_enc that sets how many codes fire. */
    record Shape(int d, int n, int rows, double bEncShift) {
    }

    /** Codes about half dense: dense-code architectures take the dense path. */
    static final Shape DENSE = new Shape(D, N, B, 0);
    /**
     * b_enc shifted down so that about 2–4% of the 16·96 entries are active (for JumpReLU: above θ − ε), below
     * DenseCodeSae.SPARSE_MAX_DENSITY: the step takes the active-entry path.
     */
    static final Shape SPARSE = new Shape(D, 96, 16, -2.6);

    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void engineStepMatchesReference(ArchKind arch) {
        checkEngineStep(arch, 1, DENSE);
    }

    /** atm_stats_every = 2 and an even step: statistics are held, p follows the rate, the mask path skips E. */
    @org.junit.jupiter.api.Test
    void atmStepBetweenStatisticsUpdates() {
        checkEngineStep(ArchKind.ATM, 2, DENSE);
    }

    /** The same step on sparse codes: relu, atm and jumprelu run decode and backward on the active entries only. */
    @ParameterizedTest
    @EnumSource(value = ArchKind.class, names = {"RELU", "ATM", "JUMPRELU"})
    void sparseCodeStepMatchesReference(ArchKind arch) {
        checkEngineStep(arch, 1, SPARSE);
    }

    @org.junit.jupiter.api.Test
    void atmSparseStepBetweenStatisticsUpdates() {
        checkEngineStep(ArchKind.ATM, 2, SPARSE);
    }

    private void checkEngineStep(ArchKind arch, int statsEvery, Shape shape) {
        int D = shape.d(), N = shape.n(), B = shape.rows();
        TrainConfig cfg = config(arch, N, B).with("atm_stats_every", statsEvery);
        RefSae ref = RefSae.random(D, N, 7);
        if (arch.unitNormDecoder()) {
            ref.normalizeDecoderRows();
        }
        for (int i = 0; i < N; i++) {
            ref.bEnc[i] += shape.bEncShift();
        }
        ref = rounded(ref);
        double[] x = toDouble(toFloat(RefSae.randomRows(B, D, 8)));
        RefSae.Ctx c = ctx(arch, N, B);
        try (CpuEngine e = new CpuEngine(1, false); Sae sae = SaeFactory.create(e, cfg, D, TOTAL, null);
             Tensor xt = e.allocF32(B, D)) {
            load(e, sae, ref);
            Map<String, Object> s = new HashMap<>(sae.stateScalars());
            long[] since = new long[N];
            for (int i = 0; i < N; i++) {
                since[i] = c.dead[i] ? 1_000_000 : 0;
            }
            s.put("dead_since_fired", since);
            AtmReference atm = null;
            if (arch == ArchKind.ATM) {
                atm = AtmReference.preset(N, 10, cfg);
                atm.putState(s);
            }
            sae.restoreScalars(s);
            e.upload(xt, toFloat(x));
            StepMetrics m = sae.trainStep(xt, STEP);
            if (sae instanceof DenseCodeSae dense) {
                assertEquals(shape.bEncShift() != 0, dense.sparseStep(), "path taken (true: active entries)");
                assertTrue(m.l0() > 0, "some code fires");
            }

            if (arch == ArchKind.ATM) {
                // the reference ATM statistics from the unmasked forward, then the mask from the reference p
                RefSae.Ctx open = ctx(arch, N, B);
                java.util.Arrays.fill(open.kept, true);
                RefSae.Result r0 = ref.eval(open, x, B);
                double rate = new Schedules(cfg, TOTAL).maskRate(STEP);
                if ((STEP - 1) % statsEvery == 0) {
                    atm.update(r0.f, r0.e, ref.wDec, B, D, rate);
                } else {
                    atm.recompute(rate);
                }
                for (int b = 0; b < B; b++) {
                    for (int i = 0; i < N; i++) {
                        float p = (float) atm.p[i];
                        c.kept[b * N + i] = !(p > 0 && Philox.maskUniform(cfg.seed(), STEP, b, i) < p);
                    }
                }
                assertTrue(atm.maskable() > 0, "masking is active in this test");
                assertEquals(atm.theta, m.theta(), 1e-5 * atm.theta, "θ");
                assertEquals((double) atm.maskable() / N, m.fracMaskable(), 1e-12, "fraction maskable");
                double[] emaA = (double[]) sae.stateScalars().get("atm_ema_a");
                for (int i = 0; i < N; i++) {
                    assertEquals(atm.emaA[i], emaA[i], 1e-5 * (1e-3 + Math.abs(atm.emaA[i])), "EMA A " + i);
                }
            }
            RefSae.Result r = ref.eval(c, x, B);
            assertEquals(r.mse, m.mse(), 1e-5 * r.mse, "mse");
            assertEquals(r.loss, m.loss(), 1e-5 * r.loss, "loss");
            if (arch != ArchKind.BATCHTOPK) {
                assertEquals(r.l0, m.l0Masked(), 1e-12, "L0 of the code the decoder saw");
            }

            double[] g = r.grad.clone();
            int decStart = N * D + N;
            if (arch.unitNormDecoder()) {
                for (int i = 0; i < N; i++) {
                    double dot = 0, nn = 0;
                    for (int j = 0; j < D; j++) {
                        dot += g[decStart + i * D + j] * ref.wDec[i * D + j];
                        nn += ref.wDec[i * D + j] * ref.wDec[i * D + j];
                    }
                    for (int j = 0; j < D; j++) {
                        g[decStart + i * D + j] -= dot / nn * ref.wDec[i * D + j];
                    }
                }
            }
            int size = arch == ArchKind.JUMPRELU ? g.length : g.length - N;
            if (arch == ArchKind.JUMPRELU) {
                double thetaGrad = 0;
                for (int i = g.length - N; i < g.length; i++) {
                    thetaGrad += Math.abs(g[i]);
                }
                assertTrue(thetaGrad > 0, "some pre-activation lies inside the STE window");
            }
            double norm = 0, maxG = 0;
            for (int k = 0; k < size; k++) {
                norm += g[k] * g[k];
                maxG = Math.max(maxG, Math.abs(g[k]));
            }
            norm = Math.sqrt(norm);
            assertEquals(norm, m.gradNorm(), 1e-5 * norm, "grad norm");
            double clip = norm > cfg.gradClip() ? cfg.gradClip() / norm : 1;

            double[] engineM = new double[size];
            double[] engineP = new double[size];
            int o = 0;
            String[] names = arch == ArchKind.JUMPRELU
                    ? new String[]{"W_enc", "b_enc", "W_dec", "b_dec", "log_threshold"}
                    : new String[]{"W_enc", "b_enc", "W_dec", "b_dec"};
            for (String name : names) {
                Tensor pt = sae.stateTensors().get(name);
                float[] mv = new float[(int) pt.size()];
                float[] pv = new float[(int) pt.size()];
                e.download(sae.stateTensors().get(name + ".adam_m"), mv);
                e.download(pt, pv);
                for (int k = 0; k < mv.length; k++) {
                    engineM[o + k] = mv[k] / (1 - cfg.adamBeta1());
                    engineP[o + k] = pv[k];
                }
                o += mv.length;
            }
            double[] p0 = ref.flat();
            double[] expected = new double[size];
            for (int k = 0; k < size; k++) {
                double gc = clip * g[k];
                assertEquals(gc, engineM[k], 2e-5 * maxG * clip, arch + " gradient entry " + k);
                expected[k] = p0[k] - LR * gc / (Math.abs(gc) + ADAM_EPS);
            }
            if (arch.unitNormDecoder()) {
                for (int i = 0; i < N; i++) {
                    double nn = 0;
                    for (int j = 0; j < D; j++) {
                        nn += expected[decStart + i * D + j] * expected[decStart + i * D + j];
                    }
                    for (int j = 0; j < D; j++) {
                        expected[decStart + i * D + j] /= Math.sqrt(nn);
                    }
                }
            }
            for (int k = 0; k < size; k++) {
                assertEquals(expected[k], engineP[k], 1e-6 + 1e-3 * LR, arch + " parameter " + k + " after Adam");
            }
        }
    }
}
