package dev.atmsae.engine.cpu;

import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.atmsae.engine.cpu.Fixture.B;
import static dev.atmsae.engine.cpu.Fixture.D;
import static dev.atmsae.engine.cpu.Fixture.N;
import static dev.atmsae.engine.cpu.Fixture.assertBitwise;
import static dev.atmsae.engine.cpu.Fixture.assertCloseScaled;
import static dev.atmsae.engine.cpu.Fixture.randn;
import static dev.atmsae.engine.cpu.Fixture.read;
import static dev.atmsae.engine.cpu.Fixture.readInts;
import static dev.atmsae.engine.cpu.Fixture.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The active-entry kernels (dev.atmsae.engine.ActiveEntryKernels) against the dense kernels they stand in for: the
 * gather exactly; the per-entry ReLU / JumpReLU backward, ATM statistics and ATM mask bitwise equal to the dense
 * kernels' values at the entries (same expressions, same summation order over batch rows, zeros skipped); the sampled
 * dot products against float64 (1e-5 of the reference's root-mean-square). Every kernel gives the same bits with
 * 1 and 3 threads (loops split however small).
 */
class ActiveEntryKernelsTest {
    /** Pre-activations with about a fifth positive: h ~ N(−0.8, 1). */
    private static float[] preActivations(Random r) {
        float[] h = randn(r, B * N, 1f);
        for (int i = 0; i < h.length; i++) {
            h[i] -= 0.8f;
        }
        return h;
    }

    /** Reference CSR of {(b, i) : key > floor_i} in row order. */
    private static List<int[]> selected(float[] key, float[] floor) {
        List<int[]> out = new ArrayList<>();
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < N; i++) {
                if (key[b * N + i] > (floor == null ? 0f : floor[i])) {
                    out.add(new int[]{b, i});
                }
            }
        }
        return out;
    }

    @Test
    void gatherSelectsTheActiveEntriesInRowOrderOrNothingWhenOverCapacity() {
        Random r = new Random(1);
        try (CpuEngine e = Fixture.twoThreadEngine(); Tensor h = tensor(e, B, N, preActivations(r));
             Tensor f = e.allocF32(B, N)) {
            e.relu(h, f);
            float[] fv = read(e, f);
            List<int[]> ref = selected(fv, null);
            assertTrue(ref.size() > B && ref.size() < B * N / 2, "a fifth of the entries are active");
            try (SparseCodes codes = SparseCodes.allocate(e, B, ref.size() + 7)) {
                e.upload(codes.val(), fill(ref.size() + 7, 9f));
                assertEquals(ref.size(), e.gatherActive(f, h, null, codes));
                int[] rowPtr = readInts(e, codes.rowPtr());
                int[] idx = readInts(e, codes.idx());
                float[] val = read(e, codes.val());
                for (int j = 0; j < ref.size(); j++) {
                    int b = ref.get(j)[0];
                    int i = ref.get(j)[1];
                    assertTrue(rowPtr[b] <= j && j < rowPtr[b + 1], "entry " + j + " in row " + b);
                    assertEquals(i, idx[j], "latent of entry " + j);
                    assertEquals(fv[b * N + i], val[j], "value of entry " + j);
                }
                assertEquals(ref.size(), rowPtr[B]);
                for (int j = ref.size(); j < val.length; j++) {
                    assertEquals(0f, val[j], "values beyond the total are 0");
                }
            }
            try (SparseCodes small = SparseCodes.allocate(e, B, ref.size() - 1)) {
                e.upload(small.rowPtr(), new int[B + 1]);
                assertEquals(ref.size(), e.gatherActive(f, h, null, small), "the count, though it does not fit");
                assertArrayEquals(new int[B + 1], readInts(e, small.rowPtr()), "nothing written");
            }
        }
    }

    @Test
    void gatherWithAFloorKeysOnThePreActivationAndStoresTheCode() {
        Random r = new Random(2);
        float[] logTheta = new float[N];
        float[] floor = new float[N];
        for (int i = 0; i < N; i++) {
            logTheta[i] = (float) Math.log(0.2 + 0.6 * r.nextDouble());
            floor[i] = (float) Math.exp(logTheta[i]) - 0.5f;
        }
        try (CpuEngine e = Fixture.twoThreadEngine(); Tensor h = tensor(e, B, N, preActivations(r));
             Tensor f = e.allocF32(B, N); Tensor lt = tensor(e, 1, N, logTheta); Tensor fl = tensor(e, 1, N, floor);
             SparseCodes codes = SparseCodes.allocate(e, B, B * N)) {
            e.jumpRelu(h, lt, f);
            float[] hv = read(e, h);
            float[] fv = read(e, f);
            List<int[]> ref = selected(hv, floor);
            assertEquals(ref.size(), e.gatherActive(f, h, fl, codes));
            int[] idx = readInts(e, codes.idx());
            float[] val = read(e, codes.val());
            int zeros = 0;
            for (int j = 0; j < ref.size(); j++) {
                assertEquals(ref.get(j)[1], idx[j]);
                assertEquals(fv[ref.get(j)[0] * N + ref.get(j)[1]], val[j]);
                zeros += val[j] == 0f ? 1 : 0;
            }
            assertTrue(zeros > 0 && zeros < ref.size(), "entries below θ (value 0) and above it");
        }
    }

    /** Every per-entry kernel's output for one engine, to compare against the dense kernels and across threads. */
    private record Outputs(float[] dots, float[] colSum, float[] reluG, float[] jumpG, float[] jumpTheta,
                           float[] statA, float[] statQ, float[] statR, float[] masked) {
    }

    private static Outputs runAll(CpuEngine e, Random r, boolean compareDense) {
        float[] hHost = preActivations(r);
        float[] wHost = randn(r, N * D, 0.3f);
        float[] aHost = randn(r, B * D, 1f);
        float[] gFHost = randn(r, B * N, 0.1f);
        float[] l1Host = randn(r, N, 0.01f);
        float[] dnHost = randn(r, N, 1f);
        float[] pHost = new float[N];
        float[] logTheta = new float[N];
        float[] floor = new float[N];
        for (int i = 0; i < N; i++) {
            pHost[i] = i % 5 == 0 ? 0f : 0.5f * r.nextFloat();
            logTheta[i] = (float) Math.log(0.2 + 0.6 * r.nextDouble());
            floor[i] = (float) Math.exp(logTheta[i]) - 0.5f;
        }
        int cap = B * N;
        try (Tensor h = tensor(e, B, N, hHost); Tensor f = e.allocF32(B, N); Tensor w = tensor(e, N, D, wHost);
             Tensor a = tensor(e, B, D, aHost); Tensor gF = tensor(e, B, N, gFHost); Tensor l1 = tensor(e, 1, N, l1Host);
             Tensor dn = tensor(e, 1, N, dnHost); Tensor p = tensor(e, 1, N, pHost);
             Tensor lt = tensor(e, 1, N, logTheta); Tensor fl = tensor(e, 1, N, floor);
             Tensor out = e.allocF32(1, cap); Tensor col = e.allocF32(1, N); Tensor gH = e.allocF32(B, N);
             Tensor gTheta = e.allocF32(1, N); Tensor sa = e.allocF32(1, N); Tensor sq = e.allocF32(1, N);
             Tensor sr = e.allocF32(1, N); Tensor eDotD = e.allocF32(B, N); Tensor fMasked = e.allocF32(B, N);
             SparseCodes codes = SparseCodes.allocate(e, B, cap)) {
            e.relu(h, f);
            int total = (int) e.gatherActive(f, h, null, codes);
            int[] rowPtr = readInts(e, codes.rowPtr());
            int[] idx = readInts(e, codes.idx());

            e.sampledDots(codes, a, w, -1f, out);
            float[] dots = read(e, out);
            if (compareDense) {
                double[] expect = new double[total];
                for (int b = 0; b < B; b++) {
                    for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                        for (int k = 0; k < D; k++) {
                            expect[j] -= (double) aHost[b * D + k] * wHost[idx[j] * D + k];
                        }
                    }
                }
                assertCloseScaled(expect, dots, 1e-5, "sampledDots");
            }

            e.sparseColSum(codes, col);
            float[] colSum = read(e, col);

            float[] gVal = gather(gFHost, rowPtr, idx, cap);
            e.upload(out, gVal);
            e.sparseReluBackward(codes, l1, out);
            float[] reluG = read(e, out);

            // ATM statistics from E sampled at the entries, and the mask of the entries
            float[] eAt = gather(gFHost, rowPtr, idx, cap);
            e.upload(out, eAt);
            e.sparseAtmStats(codes, out, dn, sa, sq, sr);
            float[] statA = read(e, sa), statQ = read(e, sq), statR = read(e, sr);
            e.atmMaskSparse(codes, codes.val(), p, null, 11, 7, 3, out);
            float[] masked = read(e, out);
            if (compareDense) {
                e.colSum(f, 1f, col, false);
                assertBitwise(read(e, col), colSum, "sparseColSum vs colSum");
                e.reluBackward(f, gF, l1, gH);
                assertBitwise(gather(read(e, gH), rowPtr, idx, cap), reluG, "sparseReluBackward vs reluBackward");
                e.atmStats(f, gF, dn, sa, sq, sr);
                assertBitwise(read(e, sa), statA, "ATM a");
                assertBitwise(read(e, sq), statQ, "ATM q");
                assertBitwise(read(e, sr), statR, "ATM rho");
                e.atmMask(f, p, 11, 7, 3, fMasked);
                float[] denseMasked = gather(read(e, fMasked), rowPtr, idx, cap);
                assertBitwise(denseMasked, masked, "atmMaskSparse vs atmMask");
                int dropped = 0;
                for (int j = 0; j < total; j++) {
                    dropped += masked[j] == 0f ? 1 : 0;
                }
                assertTrue(dropped > 0 && dropped < total, "the mask drops some entries and keeps others");
            }

            // JumpReLU: entries above θ − ε/… (the floor), values f = h·1[h > θ]
            e.jumpRelu(h, lt, f);
            int support = (int) e.gatherActive(f, h, fl, codes);
            rowPtr = readInts(e, codes.rowPtr());
            idx = readInts(e, codes.idx());
            e.upload(out, gather(gFHost, rowPtr, idx, cap));
            e.sparseJumpReluBackward(codes, h, lt, 0.5f, 0.03f, out, gTheta);
            float[] jumpG = read(e, out);
            float[] jumpTheta = read(e, gTheta);
            if (compareDense) {
                assertTrue(support > total / 2, "the JumpReLU support is gathered");
                e.jumpReluBackward(h, lt, gF, 0.5f, 0.03f, gH, gTheta);
                assertBitwise(gather(read(e, gH), rowPtr, idx, cap), jumpG, "sparseJumpReluBackward gH");
                float[] denseTheta = read(e, gTheta);
                assertBitwise(denseTheta, jumpTheta, "sparseJumpReluBackward gLogTheta");
                double abs = 0;
                for (float v : denseTheta) {
                    abs += Math.abs(v);
                }
                assertTrue(abs > 0, "some pre-activations lie in the estimator's window");
            }
            return new Outputs(dots, colSum, reluG, jumpG, jumpTheta, statA, statQ, statR, masked);
        }
    }

    /** dense[b, idx_j] for every entry j, 0 beyond the total. */
    private static float[] gather(float[] dense, int[] rowPtr, int[] idx, int capacity) {
        float[] out = new float[capacity];
        for (int b = 0; b < B; b++) {
            for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                out[j] = dense[b * N + idx[j]];
            }
        }
        return out;
    }

    private static float[] fill(int size, float v) {
        float[] out = new float[size];
        java.util.Arrays.fill(out, v);
        return out;
    }

    @Test
    void perEntryKernelsEqualTheDenseKernelsAtTheEntries() {
        try (CpuEngine e = Fixture.twoThreadEngine()) {
            runAll(e, new Random(3), true);
        }
    }

    @Test
    void perEntryKernelsAreBitwiseIndependentOfThreadCount() {
        Outputs one;
        Outputs three;
        try (CpuEngine e = new CpuEngine(1, false, true)) {
            one = runAll(e, new Random(4), false);
        }
        try (CpuEngine e = new CpuEngine(3, false, true)) {
            three = runAll(e, new Random(4), false);
        }
        assertBitwise(one.dots(), three.dots(), "sampledDots");
        assertBitwise(one.colSum(), three.colSum(), "sparseColSum");
        assertBitwise(one.reluG(), three.reluG(), "sparseReluBackward");
        assertBitwise(one.jumpG(), three.jumpG(), "sparseJumpReluBackward gH");
        assertBitwise(one.jumpTheta(), three.jumpTheta(), "sparseJumpReluBackward gLogTheta");
        assertBitwise(one.statA(), three.statA(), "ATM a");
        assertBitwise(one.statQ(), three.statQ(), "ATM q");
        assertBitwise(one.statR(), three.statR(), "ATM rho");
        assertBitwise(one.masked(), three.masked(), "atmMaskSparse");
    }
}
