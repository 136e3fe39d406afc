package dev.atmsae.engine.cpu;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
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
import static dev.atmsae.engine.cpu.Fixture.readInts;
import static dev.atmsae.engine.cpu.Fixture.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Dense kernels against float64 references. Tolerances: element-wise kernels 1e-5 relative per element; products
 * and reductions 1e-4 relative to the reference's root-mean-square.
 */
class CpuEngineDenseTest {
    /** Closed by JUnit after the class's last test. */
    @AutoClose
    private static final CpuEngine engine = Fixture.twoThreadEngine();

    @Test
    void gemmAllTransposeCombinationsOnOpenBlas() {
        // Skipped (visibly) when ATMSAE_BLAS forces the pure-Java BLAS for the whole run.
        assumeTrue(engine.usesOpenBlas(), "OpenBLAS not in use: " + engine.describe());
        assertTrue(engine.describe().contains("OpenBLAS"), engine.describe());
        checkGemm(engine, 1);
    }

    @Test
    void gemmAllTransposeCombinationsOnPureJava() {
        try (CpuEngine java = new CpuEngine(2, true)) {
            assertFalse(java.usesOpenBlas());
            assertTrue(java.describe().contains("pure-Java"), java.describe());
            checkGemm(java, 2);
        }
    }

    /** One tile (70 × 37), then three tiles by rows and three by columns, the last tile short. */
    private static void checkGemm(Engine e, long seed) {
        checkGemm(e, seed, N, B, D);
        int threeTiles = 2 * TiledGemm.TILE + 76;
        assertEquals(3, TiledGemm.tileCount(threeTiles, 40, 60));
        checkGemm(e, seed, threeTiles, 40, 60);
        assertEquals(3, TiledGemm.tileCount(8, threeTiles, 260));
        checkGemm(e, seed, 8, threeTiles, 260);
    }

    private static void checkGemm(Engine e, long seed, int m, int n, int k) {
        Random r = new Random(seed);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (float beta : new float[] {0f, 0.3f}) {
                    float[] a = randn(r, m * k, 1f);
                    float[] b = randn(r, k * n, 1f);
                    float[] c = randn(r, m * n, 1f);
                    float alpha = 0.7f;
                    double[] ref = new double[m * n];
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double s = 0;
                            for (int l = 0; l < k; l++) {
                                double av = ta ? a[l * m + i] : a[i * k + l];
                                double bv = tb ? b[j * k + l] : b[l * n + j];
                                s += av * bv;
                            }
                            ref[i * n + j] = alpha * s + beta * c[i * n + j];
                        }
                    }
                    try (Tensor ta_ = tensor(e, ta ? k : m, ta ? m : k, a);
                         Tensor tb_ = tensor(e, tb ? n : k, tb ? k : n, b);
                         Tensor tc = tensor(e, m, n, c)) {
                        e.gemm(ta, tb, alpha, ta_, tb_, beta, tc);
                        assertCloseScaled(ref, read(e, tc), 1e-4, "gemm " + m + "x" + n + "x" + k + " ta=" + ta
                                + " tb=" + tb + " beta=" + beta);
                    }
                }
            }
        }
    }

    @Test
    void gemmRejectsMismatchedShapes() {
        try (Tensor a = engine.allocF32(3, 4); Tensor b = engine.allocF32(5, 6); Tensor c = engine.allocF32(3, 6)) {
            assertThrows(IllegalArgumentException.class, () -> engine.gemm(false, false, 1f, a, b, 0f, c));
        }
    }

    @Test
    void memoryRoundTripsFillAndCopy() {
        Random r = new Random(3);
        float[] data = randn(r, B * D, 1f);
        try (Tensor t = engine.allocF32(B, D); Tensor u = engine.allocF32(B, D); Tensor i = engine.allocI32(2, 5)) {
            assertArrayEquals(new float[B * D], read(engine, t), "allocF32 zero-fills");
            engine.upload(t, data);
            assertArrayEquals(data, read(engine, t));
            engine.copy(t, u);
            assertArrayEquals(data, read(engine, u));
            engine.upload(u, java.lang.foreign.MemorySegment.ofArray(randn(r, B * D, 2f)));
            engine.fill(u, 2.5f);
            for (float v : read(engine, u)) {
                assertEquals(2.5f, v);
            }
            int[] ints = {1, -2, 3, 4, 5, 6, 7, 8, 9, -10};
            engine.upload(i, ints);
            assertArrayEquals(ints, readInts(engine, i));
            assertThrows(IllegalArgumentException.class, () -> engine.copy(t, i));
        }
    }

    @Test
    void closedTensorRejectsUse() {
        Tensor t = engine.allocF32(2, 2);
        t.close();
        assertThrows(IllegalStateException.class, () -> engine.fill(t, 1f));
    }

    @Test
    void axpyScaleResidualReluAndSumSquares() {
        Random r = new Random(4);
        float[] x = randn(r, B * N, 1f);
        float[] y = randn(r, B * N, 1f);
        try (Tensor tx = tensor(engine, B, N, x); Tensor ty = tensor(engine, B, N, y);
             Tensor out = engine.allocF32(B, N)) {
            engine.axpy(-1.5f, tx, ty);
            double[] ref = new double[B * N];
            for (int i = 0; i < ref.length; i++) {
                ref[i] = -1.5 * x[i] + y[i];
            }
            assertClose(ref, read(engine, ty), 1e-5, 1e-6, "axpy");

            engine.upload(ty, y);
            engine.scale(ty, 0.25f);
            for (int i = 0; i < ref.length; i++) {
                ref[i] = 0.25 * y[i];
            }
            assertClose(ref, read(engine, ty), 1e-5, 1e-12, "scale");

            engine.upload(ty, y);
            engine.residual(tx, ty, out);
            for (int i = 0; i < ref.length; i++) {
                ref[i] = (double) x[i] - y[i];
            }
            assertClose(ref, read(engine, out), 1e-5, 1e-12, "residual");

            engine.relu(tx, out);
            for (int i = 0; i < ref.length; i++) {
                ref[i] = Math.max(x[i], 0);
            }
            assertClose(ref, read(engine, out), 1e-5, 1e-12, "relu");
            assertEquals(java.util.Arrays.stream(ref).filter(v -> v > 0).count(), engine.countPositive(tx));

            double ss = 0;
            for (float v : x) {
                ss += (double) v * v;
            }
            assertEquals(ss, engine.sumSquares(tx), 1e-12 * ss, "sumSquares is accumulated in float64");
        }
    }

    @Test
    void colSumAndRowSumSquares() {
        Random r = new Random(5);
        float[] a = randn(r, B * N, 1f);
        float[] prior = randn(r, N, 1f);
        try (Tensor ta = tensor(engine, B, N, a); Tensor out = tensor(engine, 1, N, prior);
             Tensor rows = engine.allocF32(1, B)) {
            engine.colSum(ta, 0.5f, out, true);
            double[] ref = new double[N];
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int b = 0; b < B; b++) {
                    s += a[b * N + j];
                }
                ref[j] = 0.5 * s + prior[j];
            }
            assertCloseScaled(ref, read(engine, out), 1e-4, "colSum accumulate");
            engine.colSum(ta, 0.5f, out, false);
            for (int j = 0; j < N; j++) {
                ref[j] -= prior[j];
            }
            assertCloseScaled(ref, read(engine, out), 1e-4, "colSum overwrite");

            engine.rowSumSquares(ta, rows);
            double[] rs = new double[B];
            for (int b = 0; b < B; b++) {
                for (int j = 0; j < N; j++) {
                    rs[b] += (double) a[b * N + j] * a[b * N + j];
                }
            }
            assertClose(rs, read(engine, rows), 1e-5, 1e-12, "rowSumSquares (positive terms)");
        }
    }

    @Test
    void encodePreSubtractsDecoderBiasAndAddsEncoderBias() {
        Random r = new Random(6);
        float[] x = randn(r, B * D, 1f);
        float[] bDec = randn(r, D, 0.5f);
        float[] wEnc = randn(r, N * D, 0.3f);
        float[] bEnc = randn(r, N, 0.2f);
        try (Tensor tx = tensor(engine, B, D, x); Tensor tbd = tensor(engine, 1, D, bDec);
             Tensor tw = tensor(engine, N, D, wEnc); Tensor tbe = tensor(engine, 1, N, bEnc);
             Tensor xc = engine.allocF32(B, D); Tensor h = engine.allocF32(B, N)) {
            engine.encodePre(tx, tbd, tw, tbe, xc, h);
            double[] refXc = new double[B * D];
            double[] refH = new double[B * N];
            for (int b = 0; b < B; b++) {
                for (int j = 0; j < D; j++) {
                    refXc[b * D + j] = (double) x[b * D + j] - bDec[j];
                }
                for (int i = 0; i < N; i++) {
                    double s = bEnc[i];
                    for (int j = 0; j < D; j++) {
                        s += refXc[b * D + j] * wEnc[i * D + j];
                    }
                    refH[b * N + i] = s;
                }
            }
            assertClose(refXc, read(engine, xc), 1e-5, 1e-12, "encodePre xc");
            assertCloseScaled(refH, read(engine, h), 1e-4, "encodePre h");
        }
    }

    @Test
    void jumpReluKeepsValuesAboveTheirThreshold() {
        Random r = new Random(7);
        float[] h = randn(r, B * N, 1f);
        float[] logTheta = Fixture.uniform(r, N, -3f, 0.3f);
        try (Tensor th = tensor(engine, B, N, h); Tensor tl = tensor(engine, 1, N, logTheta);
             Tensor f = engine.allocF32(B, N)) {
            engine.jumpRelu(th, tl, f);
            double[] ref = new double[B * N];
            int kept = 0;
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < N; i++) {
                    double theta = (float) Math.exp(logTheta[i]);
                    double v = h[b * N + i];
                    ref[b * N + i] = v > theta ? v : 0;
                    kept += v > theta ? 1 : 0;
                }
            }
            assertTrue(kept > 0 && kept < B * N);
            assertClose(ref, read(engine, f), 1e-5, 1e-12, "jumpRelu");
        }
    }

    @Test
    void countFiresAccumulatesPositiveRows() {
        Random r = new Random(8);
        float[] f = randn(r, B * N, 1f);
        int[] prior = new int[N];
        for (int i = 0; i < N; i++) {
            prior[i] = r.nextInt(100);
        }
        try (Tensor tf = tensor(engine, B, N, f); Tensor fires = Fixture.ints(engine, 1, N, prior)) {
            engine.countFires(tf, fires);
            int[] ref = prior.clone();
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < N; i++) {
                    if (f[b * N + i] > 0) {
                        ref[i]++;
                    }
                }
            }
            assertArrayEquals(ref, readInts(engine, fires));
        }
    }
}
