package dev.atmsae.engine.cpu;

import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static dev.atmsae.engine.cpu.Fixture.B;
import static dev.atmsae.engine.cpu.Fixture.D;
import static dev.atmsae.engine.cpu.Fixture.N;
import static dev.atmsae.engine.cpu.Fixture.K;
import static dev.atmsae.engine.cpu.Fixture.assertClose;
import static dev.atmsae.engine.cpu.Fixture.assertCloseScaled;
import static dev.atmsae.engine.cpu.Fixture.randn;
import static dev.atmsae.engine.cpu.Fixture.read;
import static dev.atmsae.engine.cpu.Fixture.readInts;
import static dev.atmsae.engine.cpu.Fixture.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TopK / BatchTopK selection (exact, including the tie rules) and the sparse decode family against dense float64
 * references (1e-4 relative to the reference's root-mean-square; gathers and scatters are sums of k terms).
 */
class CpuEngineSparsityTest {
    /** Closed by JUnit after the class's last test. */
    @AutoClose
    private static final CpuEngine engine = Fixture.twoThreadEngine();

    /** Values from a small set so that ties are everywhere, plus one row that is entirely negative. */
    private static float[] tiedScores(Random r) {
        float[] levels = {-0.75f, -0.25f, 0.125f, 0.5f, 0.5f, 0.875f, 1.25f};
        float[] h = new float[B * N];
        for (int i = 0; i < h.length; i++) {
            h[i] = levels[r.nextInt(levels.length)];
        }
        for (int i = 0; i < N; i++) {
            h[3 * N + i] = -1f - r.nextInt(3) * 0.5f;
        }
        return h;
    }

    private record Pick(int index, float value) {
    }

    /** Reference TopK of one row among allowed latents: descending value, ties by lower index. */
    private static List<Pick> referenceTopK(float[] h, int row, int k, int[] allow) {
        List<Pick> all = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            if (allow == null || allow[i] != 0) {
                all.add(new Pick(i, h[row * N + i]));
            }
        }
        all.sort(Comparator.comparingDouble((Pick p) -> -p.value()).thenComparingInt(Pick::index));
        return all.subList(0, k);
    }

    @Test
    void topKPicksLargestWithLowerIndexOnTiesAndRelus() {
        checkTopK(tiedScores(new Random(11)), null);
        float[] gaussian = randn(new Random(12), B * N, 1f);
        for (int i = 0; i < N; i++) {
            gaussian[3 * N + i] = -Math.abs(gaussian[3 * N + i]);
        }
        checkTopK(gaussian, null);
    }

    @Test
    void topKRespectsAllowMask() {
        Random r = new Random(13);
        int[] allow = new int[N];
        for (int i = 0; i < N; i++) {
            allow[i] = r.nextInt(3) == 0 ? 1 + r.nextInt(5) : 0;
        }
        allow[0] = 0;
        allow[N - 1] = 7;
        checkTopK(tiedScores(r), allow);
    }

    private static void checkTopK(float[] h, int[] allow) {
        try (Tensor th = tensor(engine, B, N, h); SparseCodes codes = SparseCodes.allocate(engine, B, B * K + 3);
             Tensor ta = allow == null ? null : Fixture.ints(engine, 1, N, allow)) {
            engine.topK(th, K, ta, codes);
            int[] rowPtr = readInts(engine, codes.rowPtr());
            int[] idx = readInts(engine, codes.idx());
            float[] val = read(engine, codes.val());
            int zeros = 0;
            for (int b = 0; b <= B; b++) {
                assertEquals(b * K, rowPtr[b]);
            }
            for (int b = 0; b < B; b++) {
                List<Pick> ref = referenceTopK(h, b, K, allow);
                for (int j = 0; j < K; j++) {
                    assertEquals(ref.get(j).index(), idx[b * K + j], "row " + b + " pick " + j);
                    assertEquals(Math.max(ref.get(j).value(), 0f), val[b * K + j], "row " + b + " pick " + j);
                    zeros += val[b * K + j] == 0f ? 1 : 0;
                }
            }
            assertTrue(zeros >= K, "the all-negative row yields ReLU'd zeros");
        }
    }

    @Test
    void topKRejectsTooFewAllowedLatents() {
        int[] allow = new int[N];
        allow[5] = 1;
        try (Tensor th = tensor(engine, B, N, randn(new Random(14), B * N, 1f));
             SparseCodes codes = SparseCodes.allocate(engine, B, B * K);
             Tensor ta = Fixture.ints(engine, 1, N, allow)) {
            assertThrows(IllegalArgumentException.class, () -> engine.topK(th, K, ta, codes));
        }
    }

    @Test
    void batchTopKKeepsGlobalLargestWithTiesByFlatIndex() {
        checkBatchTopK(tiedScores(new Random(21)), B * K);
        checkBatchTopK(randn(new Random(22), B * N, 1f), B * K);
        checkBatchTopK(randn(new Random(23), B * N, 1f), B * N); // more than the positives: keep all positives
        float[] allNegative = randn(new Random(24), B * N, 1f);
        for (int i = 0; i < allNegative.length; i++) {
            allNegative[i] = -Math.abs(allNegative[i]);
        }
        checkBatchTopK(allNegative, B * K);
    }

    /**
     * Batches of ≥ 256 rows take the sampled-floor path: once with i.i.d. scores, once with the sampled rows (every
     * 16th) far larger than the rest, so the floor is too high and the selection must fall back to all positives.
     */
    @Test
    void batchTopKOnLargeBatchesWithSampledFloor() {
        int rows = 300;
        checkBatchTopK(randn(new Random(25), rows * N, 1f), rows, rows * K);
        float[] skewed = randn(new Random(26), rows * N, 1f);
        for (int b = 0; b < rows; b += 16) {
            for (int i = 0; i < N; i++) {
                skewed[b * N + i] = 50f + Math.abs(skewed[b * N + i]);
            }
        }
        checkBatchTopK(skewed, rows, rows * K);
    }

    private static void checkBatchTopK(float[] h, int kTotal) {
        checkBatchTopK(h, B, kTotal);
    }

    private static void checkBatchTopK(float[] h, int rows, int kTotal) {
        List<Integer> positive = new ArrayList<>();
        for (int f = 0; f < h.length; f++) {
            if (h[f] > 0) {
                positive.add(f);
            }
        }
        positive.sort(Comparator.comparingDouble((Integer f) -> -h[f]).thenComparingInt(f -> f));
        List<Integer> kept = new ArrayList<>(positive.subList(0, Math.min(kTotal, positive.size())));
        float minKept = kept.isEmpty() ? 0f : h[kept.getLast()];
        kept.sort(Comparator.naturalOrder());
        try (Tensor th = tensor(engine, rows, N, h);
             SparseCodes codes = SparseCodes.allocate(engine, rows, kTotal + 9)) {
            float threshold = engine.batchTopK(th, kTotal, codes);
            assertEquals(minKept, threshold, "threshold = smallest kept value");
            int[] rowPtr = readInts(engine, codes.rowPtr());
            int[] idx = readInts(engine, codes.idx());
            float[] val = read(engine, codes.val());
            assertEquals(kept.size(), rowPtr[rows]);
            int j = 0;
            for (int b = 0; b < rows; b++) {
                assertEquals(j, rowPtr[b], "rowPtr[" + b + "]");
                while (j < kept.size() && kept.get(j) / N == b) {
                    assertEquals(kept.get(j) % N, idx[j], "entry " + j);
                    assertEquals(h[kept.get(j)], val[j], "entry " + j);
                    j++;
                }
            }
        }
    }

    /** Sparse codes from TopK of random scores, including an all-negative row whose entries hold 0. */
    private static float[] denseCodes(int[] rowPtr, int[] idx, float[] val) {
        float[] f = new float[B * N];
        for (int b = 0; b < B; b++) {
            for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                f[b * N + idx[j]] += val[j];
            }
        }
        return f;
    }

    @Test
    void sparseDecodeAndBackwardMatchDenseProducts() {
        Random r = new Random(31);
        float[] h = randn(r, B * N, 1f);
        for (int i = 0; i < N; i++) {
            h[5 * N + i] = -Math.abs(h[5 * N + i]);
        }
        float[] wDec = randn(r, N * D, 0.5f);
        float[] bDec = randn(r, D, 0.3f);
        float[] gXhat = randn(r, B * D, 1f);
        float[] gWDec0 = randn(r, N * D, 0.1f);
        int capacity = B * K + 4;
        try (Tensor th = tensor(engine, B, N, h); SparseCodes codes = SparseCodes.allocate(engine, B, capacity);
             Tensor tw = tensor(engine, N, D, wDec); Tensor tb = tensor(engine, 1, D, bDec);
             Tensor xhat = engine.allocF32(B, D); Tensor tg = tensor(engine, B, D, gXhat);
             Tensor gVal = tensor(engine, 1, capacity, randn(r, capacity, 1f));
             Tensor gWDec = tensor(engine, N, D, gWDec0)) {
            engine.topK(th, K, null, codes);
            int[] rowPtr = readInts(engine, codes.rowPtr());
            int[] idx = readInts(engine, codes.idx());
            float[] val = read(engine, codes.val());
            float[] f = denseCodes(rowPtr, idx, val);

            for (boolean withBias : new boolean[] {true, false}) {
                engine.sparseDecode(codes, tw, withBias ? tb : null, xhat);
                double[] ref = new double[B * D];
                for (int b = 0; b < B; b++) {
                    for (int c = 0; c < D; c++) {
                        double s = withBias ? bDec[c] : 0;
                        for (int i = 0; i < N; i++) {
                            s += (double) f[b * N + i] * wDec[i * D + c];
                        }
                        ref[b * D + c] = s;
                    }
                }
                assertCloseScaled(ref, read(engine, xhat), 1e-4, "sparseDecode bias=" + withBias);
            }

            engine.sparseDecodeBackward(codes, tg, tw, gVal, gWDec);
            double[] refGVal = new double[capacity];
            double[] refGW = Fixture.toDouble(gWDec0);
            for (int b = 0; b < B; b++) {
                for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                    for (int c = 0; c < D; c++) {
                        refGVal[j] += (double) gXhat[b * D + c] * wDec[idx[j] * D + c];
                        refGW[idx[j] * D + c] += (double) val[j] * gXhat[b * D + c];
                    }
                }
            }
            float[] gv = read(engine, gVal);
            assertCloseScaled(refGVal, gv, 1e-4, "sparseDecodeBackward gVal");
            for (int j = B * K; j < capacity; j++) {
                assertEquals(0f, gv[j], "gVal beyond the entries is cleared");
            }
            assertCloseScaled(refGW, read(engine, gWDec), 1e-4, "sparseDecodeBackward gWDec");

            engine.sparseReluMask(codes, gVal);
            float[] masked = read(engine, gVal);
            int cleared = 0;
            for (int j = 0; j < B * K; j++) {
                assertEquals(val[j] > 0 ? gv[j] : 0f, masked[j], "sparseReluMask " + j);
                cleared += val[j] > 0 ? 0 : 1;
            }
            assertTrue(cleared >= K);
        }
    }

    @Test
    void sparseEncoderBackwardScattersOnlyActiveEntries() {
        Random r = new Random(41);
        float[] h = randn(r, B * N, 1f);
        for (int i = 0; i < N; i++) {
            h[7 * N + i] = -Math.abs(h[7 * N + i]);
        }
        int capacity = B * K;
        float[] gPre = randn(r, capacity, 1f);
        float[] xc = randn(r, B * D, 1f);
        float[] gW0 = randn(r, N * D, 0.1f);
        float[] gB0 = randn(r, N, 0.1f);
        try (Tensor th = tensor(engine, B, N, h); SparseCodes codes = SparseCodes.allocate(engine, B, capacity);
             Tensor tgp = tensor(engine, 1, capacity, gPre); Tensor txc = tensor(engine, B, D, xc);
             Tensor gW = tensor(engine, N, D, gW0); Tensor gB = tensor(engine, 1, N, gB0);
             Tensor fires = engine.allocI32(1, N)) {
            engine.topK(th, K, null, codes);
            int[] rowPtr = readInts(engine, codes.rowPtr());
            int[] idx = readInts(engine, codes.idx());
            float[] val = read(engine, codes.val());
            engine.sparseEncoderBackward(codes, tgp, txc, gW, gB);
            double[] refW = Fixture.toDouble(gW0);
            double[] refB = Fixture.toDouble(gB0);
            int[] refFires = new int[N];
            for (int b = 0; b < B; b++) {
                for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                    if (val[j] != 0f) {
                        refB[idx[j]] += gPre[j];
                        for (int c = 0; c < D; c++) {
                            refW[idx[j] * D + c] += (double) gPre[j] * xc[b * D + c];
                        }
                    }
                    if (val[j] > 0f) {
                        refFires[idx[j]]++;
                    }
                }
            }
            assertCloseScaled(refW, read(engine, gW), 1e-4, "sparseEncoderBackward gWEnc");
            assertCloseScaled(refB, read(engine, gB), 1e-4, "sparseEncoderBackward gBEnc");
            engine.countFiresSparse(codes, fires);
            assertArrayEquals(refFires, readInts(engine, fires));
        }
    }

    @Test
    void sparseDecodeOfBatchTopKMatchesDense() {
        Random r = new Random(51);
        float[] h = randn(r, B * N, 1f);
        float[] wDec = randn(r, N * D, 0.5f);
        int kTotal = B * K;
        try (Tensor th = tensor(engine, B, N, h); SparseCodes codes = SparseCodes.allocate(engine, B, kTotal + 10);
             Tensor tw = tensor(engine, N, D, wDec); Tensor xhat = engine.allocF32(B, D)) {
            engine.batchTopK(th, kTotal, codes);
            float[] f = denseCodes(readInts(engine, codes.rowPtr()), readInts(engine, codes.idx()),
                    read(engine, codes.val()));
            engine.sparseDecode(codes, tw, null, xhat);
            double[] ref = new double[B * D];
            for (int b = 0; b < B; b++) {
                for (int c = 0; c < D; c++) {
                    for (int i = 0; i < N; i++) {
                        ref[b * D + c] += (double) f[b * N + i] * wDec[i * D + c];
                    }
                }
            }
            assertCloseScaled(ref, read(engine, xhat), 1e-4, "sparseDecode of BatchTopK codes");
            assertClose(new double[] {kTotal}, new float[] {engine.countPositive(codes.val())}, 0, 0,
                    "BatchTopK keeps kTotal positives");
        }
    }
}
