package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.core.Philox;
import dev.atmsae.core.Schedules;
import dev.atmsae.core.TrainConfig;
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
    /** Matryoshka groups of the tiny problem: sizes 2, 4, 10 (prefix widths 2, 6, 16). */
    static final String GROUPS = "2,4,10";
    static final int[] GROUP_ENDS = {2, 6, 16};

    static RefSae.Ctx ctx(ArchKind arch) {
        return ctx(arch, arch);
    }

    /** The reference context of {@code arch} training with the sparsity mechanism {@code mech} (ATM: its base). */
    static RefSae.Ctx ctx(ArchKind arch, ArchKind mech) {
        return ctx(arch, mech, TrainConfig.MATRYOSHKA_EQUAL);
    }

    /** As {@link #ctx(ArchKind, ArchKind)}, with Matryoshka's loss form {@code matryoshkaLoss}. */
    static RefSae.Ctx ctx(ArchKind arch, ArchKind mech, String matryoshkaLoss) {
        return ctx(arch, mech, matryoshkaLoss, N, B);
    }

    /** The context at another width N and batch B (the sparse-code step test). */
    static RefSae.Ctx ctx(ArchKind arch, ArchKind mech, String matryoshkaLoss, int N, int B) {
        RefSae.Ctx c = new RefSae.Ctx();
        c.arch = arch;
        c.base = arch == ArchKind.ATM && mech != ArchKind.ATM ? mech : null;
        c.coeff = mech == ArchKind.JUMPRELU ? 0.3 : 0.7;
        c.k = 3;
        c.eps = 0.5;
        c.auxCap = 512;
        c.auxCoeff = mech.kControlled() ? 0.5 : 0;
        c.groupEnds = GROUP_ENDS;
        c.groupWeights = new double[GROUP_ENDS.length];
        java.util.Arrays.fill(c.groupWeights, TrainConfig.MATRYOSHKA_SAELENS.equals(matryoshkaLoss)
                ? 1.0 : 1.0 / GROUP_ENDS.length);
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
        checkFiniteDifferences(ctx(arch));
    }

    /** Matryoshka with the SAELens loss form (every prefix weighted 1), both checks. */
    @org.junit.jupiter.api.Test
    void matryoshkaSaeLensLossForm() {
        checkFiniteDifferences(ctx(ArchKind.MATRYOSHKA, ArchKind.MATRYOSHKA, TrainConfig.MATRYOSHKA_SAELENS));
        checkEngineStep(config(ArchKind.MATRYOSHKA).with("matryoshka_loss", TrainConfig.MATRYOSHKA_SAELENS));
    }

    /** The nested prefixes change the loss and gradient: Matryoshka's reference differs from BatchTopK's. */
    @org.junit.jupiter.api.Test
    void matryoshkaLossDiffersFromBatchTopK() {
        RefSae ref = RefSae.random(D, N, 7);
        double[] x = RefSae.randomRows(B, D, 8);
        RefSae.Result m = ref.eval(ctx(ArchKind.MATRYOSHKA), x, B);
        RefSae.Result b = ref.eval(ctx(ArchKind.BATCHTOPK), x, B);
        assertEquals(b.mse, m.mse, 1e-12, "same codes, same full-width reconstruction");
        assertTrue(Math.abs(m.loss - b.loss) > 1e-3, "the prefix losses count: " + m.loss + " vs " + b.loss);
        double gradDiff = 0;
        for (int k = 0; k < m.grad.length; k++) {
            gradDiff = Math.max(gradDiff, Math.abs(m.grad[k] - b.grad[k]));
        }
        assertTrue(gradDiff > 1e-3, "and move the gradient");
    }

    /** The reference's analytic gradient against central differences for context c (JumpReLU θ: see class). */
    static void checkFiniteDifferences(RefSae.Ctx c) {
        ArchKind arch = c.arch;
        ArchKind mech = RefSae.mechanism(c);
        RefSae ref = RefSae.random(D, N, 7);
        double[] x = RefSae.randomRows(B, D, 8);
        RefSae.Result r = ref.eval(c, x, B);
        c.frozenE = r.e.clone();
        c.frozenV = RefSae.variance(r.e, B);
        double[] p0 = ref.flat();
        int thetaStart = ref.size() - N;
        double step = 1e-5;
        int checked = 0;
        double maxG = 0;
        for (int k = 0; k < (mech == ArchKind.JUMPRELU ? thetaStart : ref.size()); k++) {
            double[] p = p0.clone();
            p[k] = p0[k] + step;
            ref.setFlat(p);
            double up = ref.eval(c, x, B).loss;
            p[k] = p0[k] - step;
            ref.setFlat(p);
            double down = ref.eval(c, x, B).loss;
            double fd = (up - down) / (2 * step);
            assertEquals(r.grad[k], fd, 1e-6 * (1 + Math.abs(r.grad[k])), arch + "/" + mech + " parameter " + k);
            maxG = Math.max(maxG, Math.abs(r.grad[k]));
            checked++;
        }
        ref.setFlat(p0);
        assertTrue(maxG > 1e-3, "gradient is not trivially zero");
        if (mech.kControlled()) {
            assertTrue(r.aux > 0, "AuxK is exercised");
        }
        if (mech == ArchKind.JUMPRELU) {
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
        return TrainConfig.defaults(arch).with(testKeys(N, B));
    }

    /** The keys every gradient test sets (small shapes, no warm-up, a smooth Adam step). */
    static Map<String, Object> testKeys() {
        return testKeys(N, B);
    }

    static Map<String, Object> testKeys(int N, int B) {
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
        m.put("matryoshka_groups", GROUPS);
        return m;
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

    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void engineStepMatchesReference(ArchKind arch) {
        checkEngineStep(arch, 1);
    }

    /** atm_stats_every = 2 and an even step: statistics are held, p follows the rate, the mask path skips E. */
    @org.junit.jupiter.api.Test
    void atmStepBetweenStatisticsUpdates() {
        checkEngineStep(ArchKind.ATM, 2);
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

    private void checkEngineStep(ArchKind arch, int statsEvery) {
        checkEngineStep(arch, statsEvery, DENSE);
    }

    private void checkEngineStep(ArchKind arch, int statsEvery, Shape shape) {
        checkEngineStep(config(arch, shape.n(), shape.rows()).with("atm_stats_every", statsEvery), shape);
    }

    static void checkEngineStep(TrainConfig cfg) {
        checkEngineStep(cfg, DENSE);
    }

    /**
     * One engine step of {@code cfg} against the reference. ATM (any base, mask mode, rescaling): preset statistics,
     * the reference p, and the mask the engine must draw from it (token: u(seed, step, b, i) &lt; p_i; latent:
     * u(seed, step, LATENT_TOKEN, i) &lt; p_i for every row), fixed in the reference like any other input.
     */
    static void checkEngineStep(TrainConfig cfg, Shape shape) {
        int D = shape.d(), N = shape.n(), B = shape.rows();
        ArchKind arch = cfg.arch();
        ArchKind mech = cfg.sparsityKind();
        int statsEvery = cfg.atmStatsEvery();
        RefSae ref = RefSae.random(D, N, 7);
        if (arch.unitNormDecoder()) {
            ref.normalizeDecoderRows();
        }
        for (int i = 0; i < N; i++) {
            ref.bEnc[i] += shape.bEncShift();
        }
        ref = rounded(ref);
        double[] x = toDouble(toFloat(RefSae.randomRows(B, D, 8)));
        RefSae.Ctx c = ctx(arch, mech, cfg.matryoshkaLoss(), N, B);
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
                RefSae.Ctx open = ctx(arch, mech, cfg.matryoshkaLoss(), N, B);
                java.util.Arrays.fill(open.kept, true);
                RefSae.Result r0 = ref.eval(open, x, B);
                double rate = new Schedules(cfg, TOTAL).maskRate(STEP);
                if ((STEP - 1) % statsEvery == 0) {
                    atm.update(r0.f, r0.e, ref.wDec, B, D, rate);
                } else {
                    atm.recompute(rate);
                }
                boolean latentMode = "latent".equals(cfg.atmMaskMode());
                for (int b = 0; b < B; b++) {
                    for (int i = 0; i < N; i++) {
                        float p = (float) atm.p[i];
                        long token = latentMode ? AtmMask.LATENT_TOKEN : b;
                        c.kept[b * N + i] = !(p > 0 && Philox.maskUniform(cfg.seed(), STEP, token, i) < p);
                    }
                }
                if (cfg.atmRescale()) {
                    c.scale = new double[N];
                    for (int i = 0; i < N; i++) {
                        c.scale[i] = (float) (1.0 / (1.0 - atm.p[i]));
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
            if (arch != ArchKind.BATCHTOPK && arch != ArchKind.MATRYOSHKA) {
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
            int size = mech == ArchKind.JUMPRELU ? g.length : g.length - N;
            if (mech == ArchKind.JUMPRELU) {
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
            String[] names = mech == ArchKind.JUMPRELU
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
