package dev.atmsae.engine.cpu;

import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static dev.atmsae.engine.cpu.Fixture.B;
import static dev.atmsae.engine.cpu.Fixture.D;
import static dev.atmsae.engine.cpu.Fixture.N;
import static dev.atmsae.engine.cpu.Fixture.K;
import static dev.atmsae.engine.cpu.Fixture.randn;
import static dev.atmsae.engine.cpu.Fixture.read;
import static dev.atmsae.engine.cpu.Fixture.readInts;
import static dev.atmsae.engine.cpu.Fixture.tensor;
import static dev.atmsae.engine.cpu.Fixture.uniform;

/** Every kernel of the CPU engine run once on the same seeded inputs, its outputs collected by name. */
final class KernelOutputs {
    /** Rows (or columns) of the products that {@link TiledGemm} cuts into three tiles, the last one short. */
    static final int THREE_TILES = 2 * TiledGemm.TILE + 76;
    /** The most tiles any product here has: thread counts above it leave workers without a tile. */
    static final int MAX_TILES = 3;

    private KernelOutputs() {
    }

    private static float[] ints(int[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.intBitsToFloat(values[i]);
        }
        return out;
    }

    /** Runs every kernel on the same seeded inputs and collects all outputs. */
    static Map<String, float[]> runAll(CpuEngine e) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Random r = new Random(99);
        int m = 150; // > two of the pure-Java BLAS's 64-row blocks
        float[] x = randn(r, B * D, 1f);
        float[] bDec = randn(r, D, 0.3f);
        float[] wEnc = randn(r, N * D, 0.3f);
        float[] bEnc = randn(r, N, 0.2f);
        float[] wDec = randn(r, N * D, 0.3f);
        float[] big = randn(r, m * N, 1f);
        float[] logTheta = uniform(r, N, -2f, 0f);
        float[] gF = randn(r, B * N, 1f);
        float[] p = uniform(r, N, 0f, 0.9f);
        float[] grad = randn(r, N * D, 1f);
        int[] allow = new int[N];
        for (int i = 0; i < N; i++) {
            allow[i] = i % 3 == 0 ? 1 : 0;
        }
        try (Tensor tx = tensor(e, B, D, x); Tensor tbd = tensor(e, 1, D, bDec); Tensor twe = tensor(e, N, D, wEnc);
             Tensor tbe = tensor(e, 1, N, bEnc); Tensor twd = tensor(e, N, D, wDec); Tensor tbig = tensor(e, m, N, big);
             Tensor xc = e.allocF32(B, D); Tensor h = e.allocF32(B, N); Tensor f = e.allocF32(B, N);
             Tensor tl = tensor(e, 1, N, logTheta); Tensor tgF = tensor(e, B, N, gF); Tensor tp = tensor(e, 1, N, p);
             Tensor tallow = Fixture.ints(e, 1, N, allow); Tensor xhat = e.allocF32(B, D);
             Tensor err = e.allocF32(B, D); Tensor gH = e.allocF32(B, N); Tensor gLog = e.allocF32(1, N);
             Tensor rowN = e.allocF32(1, N); Tensor rowD = e.allocF32(1, D); Tensor q = e.allocF32(1, N);
             Tensor rho = e.allocF32(1, N); Tensor fires = e.allocI32(1, N);
             Tensor gWDec = e.allocF32(N, D); Tensor gWEnc = e.allocF32(N, D);
             Tensor cBig = e.allocF32(m, N); Tensor tm = e.allocF32(N, D); Tensor tv = e.allocF32(N, D);
             Tensor tgrad = tensor(e, N, D, grad);
             SparseCodes top = SparseCodes.allocate(e, B, B * K + 7);
             SparseCodes batch = SparseCodes.allocate(e, B, B * K + 7);
             Tensor gVal = e.allocF32(1, B * K + 7)) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    // [m, N] = op(A)·op(B) with inner dimension N, from the [m, N] and [N, D]-shaped inputs.
                    try (Tensor a = tensor(e, ta ? N : m, ta ? m : N, big);
                         Tensor b = tensor(e, tb ? N : N, N, randn(new Random(7), N * N, 1f))) {
                        e.gemm(ta, tb, 0.9f, a, b, 0.5f, cBig);
                        out.put("gemm" + ta + tb, read(e, cBig));
                    }
                }
            }
            tiledProducts(e, out);
            e.encodePre(tx, tbd, twe, tbe, xc, h);
            out.put("encodePre.xc", read(e, xc));
            out.put("encodePre.h", read(e, h));
            e.relu(h, f);
            out.put("relu", read(e, f));
            e.jumpRelu(h, tl, gH);
            out.put("jumpRelu", read(e, gH));
            e.colSum(tbig, 0.3f, rowN, false);
            out.put("colSum", read(e, rowN));
            e.colSum(tbig, 0.3f, rowN, true);
            out.put("colSum.acc", read(e, rowN));
            try (Tensor rows = e.allocF32(1, m)) {
                e.rowSumSquares(tbig, rows);
                out.put("rowSumSquares", read(e, rows));
            }
            out.put("sumSquares", new float[] {(float) e.sumSquares(tbig),
                    Float.intBitsToFloat((int) Double.doubleToRawLongBits(e.sumSquares(tbig)))});
            out.put("countPositive", new float[] {e.countPositive(tbig)});

            e.topK(h, K, null, top);
            out.put("topK.idx", ints(readInts(e, top.idx())));
            out.put("topK.val", read(e, top.val()));
            e.sparseDecode(top, twd, tbd, xhat);
            out.put("sparseDecode", read(e, xhat));
            e.residual(xhat, tx, err);
            out.put("residual", read(e, err));
            e.sparseDecodeBackward(top, err, twd, gVal, gWDec);
            out.put("sparseDecodeBackward.gVal", read(e, gVal));
            out.put("sparseDecodeBackward.gWDec", read(e, gWDec));
            e.sparseReluMask(top, gVal);
            out.put("sparseReluMask", read(e, gVal));
            e.sparseEncoderBackward(top, gVal, xc, gWEnc, rowN);
            out.put("sparseEncoderBackward.gWEnc", read(e, gWEnc));
            out.put("sparseEncoderBackward.gBEnc", read(e, rowN));
            e.countFiresSparse(top, fires);
            out.put("countFiresSparse", ints(readInts(e, fires)));

            e.topK(h, K, tallow, top);
            out.put("topK.allow.idx", ints(readInts(e, top.idx())));
            out.put("topK.allow.val", read(e, top.val()));
            float threshold = e.batchTopK(h, B * K, batch);
            out.put("batchTopK.threshold", new float[] {threshold});
            out.put("batchTopK.rowPtr", ints(readInts(e, batch.rowPtr())));
            out.put("batchTopK.idx", ints(readInts(e, batch.idx())));
            out.put("batchTopK.val", read(e, batch.val()));

            e.reluBackward(f, tgF, tl, gH);
            out.put("reluBackward", read(e, gH));
            e.jumpReluBackward(h, tl, tgF, 0.5f, 0.01f, gH, gLog);
            out.put("jumpReluBackward.gH", read(e, gH));
            out.put("jumpReluBackward.gLogTheta", read(e, gLog));
            e.atmStats(f, tgF, rowN, gLog, q, rho);
            out.put("atmStats.a", read(e, gLog));
            out.put("atmStats.q", read(e, q));
            out.put("atmStats.rho", read(e, rho));
            e.atmMask(f, tp, 5, 11, 3, gH);
            out.put("atmMask", read(e, gH));
            e.countFires(f, fires);
            out.put("countFires", ints(readInts(e, fires)));
            try (Tensor masked = e.allocF32(1, B * K + 7)) {
                e.atmMaskSparse(batch, batch.val(), tp, null, 5, 11, 3, masked);
                out.put("atmMaskSparse", read(e, masked));
                e.atmMaskSparse(batch, batch.val(), tp, rowN, 5, 11, 3, masked);
                out.put("atmMaskSparse.rescaled", read(e, masked));
            }
            e.scaleColumns(gH, tp);
            out.put("scaleColumns", read(e, gH));

            for (int step = 1; step <= 3; step++) {
                e.adam(twd, tgrad, tm, tv, 1e-3f, 0.9f, 0.999f, 1e-8f, step, 0.5f);
            }
            out.put("adam.param", read(e, twd));
            out.put("adam.m", read(e, tm));
            out.put("adam.v", read(e, tv));
            e.removeParallelComponent(twd, tgrad);
            out.put("removeParallelComponent", read(e, tgrad));
            e.normalizeRows(twd);
            out.put("normalizeRows", read(e, twd));
            e.axpy(0.7f, tgrad, twd);
            out.put("axpy", read(e, twd));
            e.scale(twd, 1.3f);
            out.put("scale", read(e, twd));
            e.fill(twd, 0.1f);
            out.put("fill", read(e, twd));
        }
        return out;
    }

    /** Products of three tiles each, cut by rows and by columns, for every transpose combination. */
    private static void tiledProducts(CpuEngine e, Map<String, float[]> out) {
        Random r = new Random(5);
        int[][] shapes = {{THREE_TILES, 40, 60}, {8, THREE_TILES, 260}}; // m, n, k
        for (int[] shape : shapes) {
            int m = shape[0], n = shape[1], k = shape[2];
            if (TiledGemm.tileCount(m, n, k) != MAX_TILES) {
                throw new AssertionError(m + "x" + n + "x" + k + " is not cut into " + MAX_TILES + " tiles");
            }
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    try (Tensor a = tensor(e, ta ? k : m, ta ? m : k, randn(r, m * k, 1f));
                         Tensor b = tensor(e, tb ? n : k, tb ? k : n, randn(r, k * n, 1f));
                         Tensor c = tensor(e, m, n, randn(r, m * n, 1f))) {
                        e.gemm(ta, tb, 0.8f, a, b, 0.25f, c);
                        out.put("gemm" + m + "x" + n + "x" + k + (ta ? "T" : "N") + (tb ? "T" : "N"), read(e, c));
                    }
                }
            }
        }
    }
}
