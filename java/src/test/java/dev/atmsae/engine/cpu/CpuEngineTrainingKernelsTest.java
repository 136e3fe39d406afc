package dev.atmsae.engine.cpu;

import dev.atmsae.engine.Tensor;
import dev.atmsae.core.Philox;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.atmsae.engine.cpu.Fixture.B;
import static dev.atmsae.engine.cpu.Fixture.D;
import static dev.atmsae.engine.cpu.Fixture.N;
import static dev.atmsae.engine.cpu.Fixture.assertClose;
import static dev.atmsae.engine.cpu.Fixture.assertCloseScaled;
import static dev.atmsae.engine.cpu.Fixture.randn;
import static dev.atmsae.engine.cpu.Fixture.read;
import static dev.atmsae.engine.cpu.Fixture.tensor;
import static dev.atmsae.engine.cpu.Fixture.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Activation backward, ATM, Adam and decoder-row kernels against float64 references: element-wise 1e-5 relative,
 * reductions 1e-4 relative to the reference's root-mean-square; the ATM mask is checked bit for bit.
 */
class CpuEngineTrainingKernelsTest {
    /** Closed by JUnit after the class's last test. */
    @AutoClose
    private static final CpuEngine engine = Fixture.twoThreadEngine();

    @Test
    void reluBackwardPassesGradientWherePositive() {
        Random r = new Random(61);
        float[] f = randn(r, B * N, 1f);
        float[] gF = randn(r, B * N, 1f);
        float[] l1 = randn(r, N, 0.5f);
        try (Tensor tf = tensor(engine, B, N, f); Tensor tg = tensor(engine, B, N, gF);
             Tensor tl = tensor(engine, 1, N, l1); Tensor gH = engine.allocF32(B, N)) {
            for (boolean penalty : new boolean[] {true, false}) {
                engine.reluBackward(tf, tg, penalty ? tl : null, gH);
                double[] ref = new double[B * N];
                for (int b = 0; b < B; b++) {
                    for (int i = 0; i < N; i++) {
                        int e = b * N + i;
                        ref[e] = f[e] > 0 ? (double) gF[e] + (penalty ? l1[i] : 0) : 0;
                    }
                }
                assertClose(ref, read(engine, gH), 1e-5, 1e-6, "reluBackward penalty=" + penalty);
            }
        }
    }

    @Test
    void jumpReluBackwardUsesRectangleKernel() {
        Random r = new Random(62);
        int rows = 200; // enough rows for every latent to see some entries inside the kernel window
        float eps = 0.2f;
        float l0Coeff = 0.03f;
        float[] logTheta = uniform(r, N, -1.5f, -0.2f);
        float[] h = new float[rows * N];
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < N; i++) {
                h[b * N + i] = (float) Math.exp(logTheta[i]) + (float) (r.nextGaussian() * 0.2);
            }
        }
        float[] gF = randn(r, rows * N, 1f);
        try (Tensor th = tensor(engine, rows, N, h); Tensor tl = tensor(engine, 1, N, logTheta);
             Tensor tg = tensor(engine, rows, N, gF); Tensor gH = engine.allocF32(rows, N);
             Tensor gLog = engine.allocF32(1, N)) {
            engine.jumpReluBackward(th, tl, tg, eps, l0Coeff, gH, gLog);
            double[] refH = new double[rows * N];
            double[] refLog = new double[N];
            int inWindow = 0;
            for (int i = 0; i < N; i++) {
                double theta = (float) Math.exp(logTheta[i]);
                double sum = 0;
                for (int b = 0; b < rows; b++) {
                    int e = b * N + i;
                    refH[e] = h[e] > theta ? gF[e] : 0;
                    if (Math.abs((h[e] - theta) / eps) < 0.5) {
                        sum += gF[e] * (-theta / eps) + l0Coeff * (-1.0 / eps);
                        inWindow++;
                    }
                }
                refLog[i] = theta * sum;
            }
            assertTrue(inWindow > rows * N / 4, "the test exercises the window");
            assertClose(refH, read(engine, gH), 1e-5, 1e-6, "jumpReluBackward gH");
            assertCloseScaled(refLog, read(engine, gLog), 1e-4, "jumpReluBackward gLogTheta");
        }
    }

    @Test
    void atmStatsAreBatchMeans() {
        Random r = new Random(63);
        float[] f = randn(r, B * N, 1f);
        for (int e = 0; e < f.length; e++) {
            f[e] = Math.max(f[e], 0f);
        }
        float[] eDotD = randn(r, B * N, 0.3f);
        float[] pull = uniform(r, N, 0f, 0.8f); // a per-latent negative shift so that some rho clamp at 0
        for (int e = 0; e < eDotD.length; e++) {
            eDotD[e] -= pull[e % N];
        }
        float[] dNormSq = uniform(r, N, 0.5f, 1.5f);
        try (Tensor tf = tensor(engine, B, N, f); Tensor te = tensor(engine, B, N, eDotD);
             Tensor td = tensor(engine, 1, N, dNormSq); Tensor a = engine.allocF32(1, N);
             Tensor q = engine.allocF32(1, N); Tensor rho = engine.allocF32(1, N)) {
            engine.atmStats(tf, te, td, a, q, rho);
            double[] refA = new double[N];
            double[] refQ = new double[N];
            double[] refRho = new double[N];
            int clamped = 0;
            for (int i = 0; i < N; i++) {
                double sa = 0, sq = 0, sr = 0;
                for (int b = 0; b < B; b++) {
                    double fv = f[b * N + i];
                    sa += fv;
                    sq += fv > 0 ? 1 : 0;
                    sr += fv * fv * dNormSq[i] + 2 * fv * eDotD[b * N + i];
                }
                refA[i] = sa / B;
                refQ[i] = sq / B;
                refRho[i] = Math.max(0, sr / B);
                clamped += sr < 0 ? 1 : 0;
            }
            assertTrue(clamped > 0 && clamped < N, "some rho clamp at 0, some do not");
            assertCloseScaled(refA, read(engine, a), 1e-4, "atmStats a");
            assertClose(refQ, read(engine, q), 1e-6, 1e-6, "atmStats q");
            assertCloseScaled(refRho, read(engine, rho), 1e-4, "atmStats rho");
        }
    }

    @Test
    void atmMaskUsesPhiloxUniformsExactly() {
        Random r = new Random(64);
        float[] f = randn(r, B * N, 1f);
        for (int e = 0; e < f.length; e++) {
            f[e] = Math.max(f[e], 0f);
        }
        float[] p = uniform(r, N, 0f, 0.9f);
        p[3] = 0f;
        long seed = 0x1234_5678_9ABCL;
        long step = (1L << 33) + 17;
        long rowOffset = 1000;
        try (Tensor tf = tensor(engine, B, N, f); Tensor tp = tensor(engine, 1, N, p);
             Tensor out = engine.allocF32(B, N)) {
            engine.atmMask(tf, tp, seed, step, rowOffset, out);
            float[] got = read(engine, out);
            int masked = 0;
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < N; i++) {
                    int e = b * N + i;
                    boolean m = Philox.maskUniform(seed, step, rowOffset + b, i) < p[i];
                    assertEquals(m ? 0f : f[e], got[e], "entry (" + b + ", " + i + ")");
                    masked += m && f[e] > 0 ? 1 : 0;
                }
            }
            assertTrue(masked > 0);
        }
    }

    @Test
    void atmMaskKeepsEachLatentWithProbabilityOneMinusP() {
        Random r = new Random(65);
        int rows = 600;
        float[] f = uniform(r, rows * N, 0.1f, 2f);
        float[] p = uniform(r, N, 0f, 0.95f);
        try (Tensor tf = tensor(engine, rows, N, f); Tensor tp = tensor(engine, 1, N, p);
             Tensor out = engine.allocF32(rows, N)) {
            engine.atmMask(tf, tp, 42, 7, 0, out);
            float[] got = read(engine, out);
            double chi = 0;
            for (int i = 0; i < N; i++) {
                int kept = 0;
                for (int b = 0; b < rows; b++) {
                    kept += got[b * N + i] != 0f ? 1 : 0;
                }
                double expected = rows * (1.0 - p[i]);
                double sd = Math.sqrt(rows * p[i] * (1.0 - p[i]));
                assertEquals(expected, kept, 5 * sd + 1, "latent " + i + " kept " + kept + " of " + rows);
                chi += (kept - expected) * (kept - expected) / (sd * sd);
            }
            // Σ of N squared z-scores ~ χ²(N): mean 70, sd ≈ 11.8; 5 sd either side.
            assertTrue(chi > N - 5 * Math.sqrt(2.0 * N) && chi < N + 5 * Math.sqrt(2.0 * N), "chi² " + chi);
        }
    }

    @Test
    void adamMatchesReferenceOverSeveralSteps() {
        Random r = new Random(66);
        int size = N * D;
        float[] param = randn(r, size, 1f);
        float lr = 3e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, gradScale = 0.5f;
        double[] p = Fixture.toDouble(param);
        double[] m = new double[size];
        double[] v = new double[size];
        try (Tensor tp = tensor(engine, N, D, param); Tensor tg = engine.allocF32(N, D);
             Tensor tm = engine.allocF32(N, D); Tensor tv = engine.allocF32(N, D)) {
            for (int step = 1; step <= 5; step++) {
                float[] grad = randn(r, size, 2f);
                engine.upload(tg, grad);
                engine.adam(tp, tg, tm, tv, lr, beta1, beta2, eps, step, gradScale);
                for (int e = 0; e < size; e++) {
                    double g = gradScale * (double) grad[e];
                    m[e] = beta1 * m[e] + (1 - beta1) * g;
                    v[e] = beta2 * v[e] + (1 - beta2) * g * g;
                    double mHat = m[e] / (1 - Math.pow(beta1, step));
                    double vHat = v[e] / (1 - Math.pow(beta2, step));
                    p[e] -= lr * mHat / (Math.sqrt(vHat) + eps);
                }
            }
            // Each step moves a parameter by about lr = 3e-3; 1e-6 absolute is 3e-4 of one step.
            assertClose(p, read(engine, tp), 1e-6, 1.0, "adam param");
            assertClose(m, read(engine, tm), 1e-4, 1e-3, "adam m");
            assertClose(v, read(engine, tv), 1e-4, 1e-3, "adam v");
        }
    }

    @Test
    void removeParallelComponentMakesGradientOrthogonal() {
        Random r = new Random(67);
        float[] w = randn(r, N * D, 1f);
        float[] g = randn(r, N * D, 1f);
        for (int c = 0; c < D; c++) {
            w[2 * D + c] = 0f; // a zero row: its gradient is left alone
        }
        try (Tensor tw = tensor(engine, N, D, w); Tensor tg = tensor(engine, N, D, g)) {
            engine.removeParallelComponent(tw, tg);
            float[] got = read(engine, tg);
            double[] ref = new double[N * D];
            for (int i = 0; i < N; i++) {
                double dot = 0, nn = 0;
                for (int c = 0; c < D; c++) {
                    dot += (double) g[i * D + c] * w[i * D + c];
                    nn += (double) w[i * D + c] * w[i * D + c];
                }
                double orth = 0, gn = 0;
                for (int c = 0; c < D; c++) {
                    ref[i * D + c] = nn > 0 ? g[i * D + c] - dot / nn * w[i * D + c] : g[i * D + c];
                    orth += (double) got[i * D + c] * w[i * D + c];
                    gn += (double) got[i * D + c] * got[i * D + c];
                }
                if (nn > 0) {
                    assertEquals(0, orth / Math.sqrt(gn * nn), 1e-5, "row " + i + " cosine with w");
                }
            }
            assertCloseScaled(ref, got, 1e-4, "removeParallelComponent");
            for (int c = 0; c < D; c++) {
                assertEquals(g[2 * D + c], got[2 * D + c]);
            }
        }
    }

    @Test
    void normalizeRowsGivesUnitNorms() {
        Random r = new Random(68);
        float[] w = randn(r, N * D, 3f);
        for (int c = 0; c < D; c++) {
            w[4 * D + c] = 0f;
        }
        try (Tensor tw = tensor(engine, N, D, w)) {
            engine.normalizeRows(tw);
            float[] got = read(engine, tw);
            double[] ref = new double[N * D];
            for (int i = 0; i < N; i++) {
                double nn = 0;
                for (int c = 0; c < D; c++) {
                    nn += (double) w[i * D + c] * w[i * D + c];
                }
                for (int c = 0; c < D; c++) {
                    ref[i * D + c] = nn > 0 ? w[i * D + c] / Math.sqrt(nn) : 0;
                }
            }
            assertClose(ref, got, 1e-5, 1e-6, "normalizeRows");
        }
    }
}
