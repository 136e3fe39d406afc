package dev.atmsae.gpucheck;

import dev.atmsae.core.Philox;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cuda.CudaEngine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every CUDA kernel against a plain float64 host reference on random inputs (never zeros), with stated tolerances;
 * selections (TopK, BatchTopK), counts and ATM masks must match exactly. Shared by the JUnit test (skipped without a
 * device) and {@link GpuSelfTest} (the device bundle's runner). Shapes are deliberately not multiples of 32 or 4.
 *
 * <p>Tolerances: element-wise float32 kernels 1e-6 relative; float32 reductions over ≤ 64 rows 1e-5 relative to
 * the largest reference magnitude; FP32 products 1e-5 of the largest magnitude; TF32 products 5e-3; BF16 3e-2.
 */
public final class CudaParity {
    /** One named check and its outcome. */
    public record Outcome(String name, boolean passed, String detail) {
    }

    static final class Mismatch extends RuntimeException {
        Mismatch(String message) {
            super(message);
        }
    }

    /** The shape of the checks: rows, input width, latents, k (upper case in the code, as in the formulas). */
    public record Shape(int batch, int d, int n, int k) {
    }

    /** Small and deliberately not multiples of 32 or 4. */
    public static final Shape DEFAULT = new Shape(37, 45, 203, 9);
    /**
     * Past what one block covers: more than 1024 rows (BatchTopK's row offsets run in block-sized rounds), more than
     * 1024 latents (the latent index's offsets likewise), rows longer than topk_rows's 512 threads.
     */
    public static final Shape LARGE = new Shape(1100, 8, 1500, 12);
    /** TopK whose k picks need more than the 48 KiB of shared memory a block has without the opt-in. */
    public static final Shape LARGE_K = new Shape(2, 8, 7000, 6200);
    private static final long SEED = 20261124L;

    private final Engine e;
    private final int B;
    private final int D;
    private final int N;
    private final int K;
    private long stream = 0;

    public CudaParity(Engine engine) {
        this(engine, DEFAULT);
    }

    public CudaParity(Engine engine, Shape shape) {
        this.e = engine;
        this.B = shape.batch();
        this.D = shape.d();
        this.N = shape.n();
        this.K = shape.k();
    }

    /** Runs every check; a failing check does not stop the others. */
    public List<Outcome> runAll() {
        return runAll(name -> true);
    }

    /** Runs the checks whose names {@code selected} accepts; a failing check does not stop the others. */
    public List<Outcome> runAll(java.util.function.Predicate<String> selected) {
        Map<String, Runnable> checks = new LinkedHashMap<>();
        checks.put("gemm NN/NT/TN/TT fp32", () -> gemm(1e-5));
        checks.put("encodePre", this::encodePre);
        checks.put("relu / jumpRelu", this::activations);
        checks.put("topK (all latents, ties)", () -> topK(false));
        checks.put("topK (allow mask)", () -> topK(true));
        checks.put("batchTopK (ties, capacity)", () -> batchTopK(B * K));
        checks.put("batchTopK (fewer positives than k)", () -> batchTopK(B * N));
        checks.put("batchTopK (kTotal = 0)", () -> batchTopK(0));
        checks.put("empty shapes (topK B = 0 or k = 0, gemm K = 0)", this::emptyShapes);
        checks.put("upload from memory segments", this::segmentUpload);
        checks.put("sparse backward reproducible (bitwise, twice)", this::sparseBackwardReproducible);
        checks.put("sparseDecode + backward + encoder backward", this::sparseDecode);
        checks.put("residual / axpy / scale / fill / copy", this::elementwise);
        checks.put("colSum / rowSumSquares / sumSquares / countPositive", this::reductions);
        checks.put("countFires / countFiresSparse", this::fires);
        checks.put("reluBackward / jumpReluBackward", this::activationBackward);
        checks.put("atmStats", this::atmStats);
        checks.put("atmMask (bitwise Philox)", this::atmMask);
        checks.put("scaleColumns", this::scaleColumns);
        checks.put("atmMaskSparse (bitwise Philox, rescale, tail)", this::atmMaskSparse);
        checks.put("adam / removeParallelComponent / normalizeRows", this::optimiser);
        checks.put("matryoshka: splitRowsAtGroups / split decode + backward / prefixResiduals / weightedSuffixSum",
                this::matryoshkaPrefixes);
        checks.put("large shapes: topK / batchTopK / sparse backward past one block (B 1100, n 1500)", () -> {
            CudaParity large = new CudaParity(e, LARGE);
            large.topK(false);
            large.batchTopK(LARGE.batch() * LARGE.k());
            large.sparseDecode();
        });
        checks.put("topK with k needing the shared-memory opt-in (k 6200 of 7000)",
                () -> new CudaParity(e, LARGE_K).topK(false));
        List<Outcome> out = new ArrayList<>();
        for (Map.Entry<String, Runnable> c : checks.entrySet()) {
            if (!selected.test(c.getKey())) {
                continue;
            }
            try {
                c.getValue().run();
                out.add(new Outcome(c.getKey(), true, "ok"));
            } catch (RuntimeException | AssertionError ex) {
                out.add(new Outcome(c.getKey(), false, String.valueOf(ex.getMessage() == null ? ex : ex.getMessage())));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ checks

    void gemm(double tol) {
        int m = 29, k = 53, n = 41;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = gauss(m * k), b = gauss(k * n), c = gauss(m * n);
                Tensor A = up(ta ? k : m, ta ? m : k, a), Bt = up(tb ? n : k, tb ? k : n, b), C = up(m, n, c);
                e.gemm(ta, tb, 0.7f, A, Bt, 0.3f, C);
                double[] ref = new double[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            double av = ta ? a[p * m + i] : a[i * k + p];
                            double bv = tb ? b[j * k + p] : b[p * n + j];
                            s += av * bv;
                        }
                        ref[i * n + j] = 0.7 * s + 0.3 * c[i * n + j];
                    }
                }
                closeToScale("gemm ta=" + ta + " tb=" + tb, ref, down(C), tol);
                close(A, Bt, C);
            }
        }
    }

    void encodePre() {
        float[] x = gauss(B * D), bDec = gauss(D), w = gauss(N * D), bEnc = gauss(N);
        Tensor tx = up(B, D, x), tbd = up(1, D, bDec), tw = up(N, D, w), tbe = up(1, N, bEnc);
        Tensor xc = e.allocF32(B, D), h = e.allocF32(B, N);
        e.encodePre(tx, tbd, tw, tbe, xc, h);
        double[] xcRef = new double[B * D], hRef = new double[B * N];
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < D; j++) {
                xcRef[b * D + j] = (float) (x[b * D + j] - bDec[j]);
            }
            for (int i = 0; i < N; i++) {
                double s = bEnc[i];
                for (int j = 0; j < D; j++) {
                    s += xcRef[b * D + j] * w[i * D + j];
                }
                hRef[b * N + i] = s;
            }
        }
        closeRel("encodePre xc", xcRef, down(xc), 1e-6, 0);
        closeToScale("encodePre h", hRef, down(h), 1e-5);
        if (e instanceof CudaEngine cuda) {
            Tensor h2 = e.allocF32(B, N), f2 = e.allocF32(B, N);
            cuda.encodePreRelu(tx, tbd, tw, tbe, xc, h2, f2);
            closeToScale("encodePreRelu h", hRef, down(h2), 1e-5);
            double[] fRef = Arrays.stream(hRef).map(v -> Math.max(v, 0)).toArray();
            closeToScale("encodePreRelu f", fRef, down(f2), 1e-5);
            // θ in (0.2, 0.8): h (of scale ~7) lies on both sides of every threshold.
            float[] lt = new float[N];
            for (int i = 0; i < N; i++) {
                lt[i] = (float) Math.log(0.2 + 0.6 * uniform());
            }
            Tensor tl = up(1, N, lt);
            cuda.encodePreJumpRelu(tx, tbd, tw, tbe, tl, xc, h2, f2);
            closeToScale("encodePreJumpRelu h", hRef, down(h2), 1e-5);
            float[] got = down(h2);
            double[] jRef = new double[B * N];
            for (int i = 0; i < jRef.length; i++) {
                jRef[i] = got[i] > (float) Math.exp(lt[i % N]) ? got[i] : 0f;   // the threshold on the h it computed
            }
            closeRel("encodePreJumpRelu f", jRef, down(f2), 0, 0);
            close(h2, f2, tl);
        }
        close(tx, tbd, tw, tbe, xc, h);
    }

    void activations() {
        float[] h = gauss(B * N), lt = new float[N];
        for (int i = 0; i < N; i++) {
            lt[i] = (float) Math.log(0.2 + 0.6 * uniform());
        }
        Tensor th = up(B, N, h), tl = up(1, N, lt), f = e.allocF32(B, N);
        e.relu(th, f);
        double[] ref = new double[B * N];
        for (int i = 0; i < ref.length; i++) {
            ref[i] = Math.max(h[i], 0f);
        }
        closeRel("relu", ref, down(f), 0, 0);
        e.jumpRelu(th, tl, f);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = h[i] > (float) Math.exp(lt[i % N]) ? h[i] : 0f;
        }
        closeRel("jumpRelu", ref, down(f), 0, 0);
        close(th, tl, f);
    }

    /** allow (when masked) keeps about half the latents, always at least k (fewer is a caller error). */
    void topK(boolean masked) {
        float[] h = gauss(B * N);
        // Ties: quantise some rows so equal values (and exact zeros / negatives) are common.
        for (int i = 0; i < Math.min(5, B) * N; i++) {
            h[i] = Math.round(h[i] * 2f) / 2f;
        }
        int[] allow = new int[N];
        for (int i = 0; i < N; i++) {
            allow[i] = masked ? (uniform() < 0.5 ? 1 : 0) : 1;
        }
        Tensor th = up(B, N, h), ta = masked ? upI(1, N, allow) : null;
        SparseCodes codes = SparseCodes.allocate(e, B, B * K);
        e.topK(th, K, ta, codes);
        int[] rowPtr = downI(codes.rowPtr()), idx = downI(codes.idx());
        float[] val = down(codes.val());
        for (int b = 0; b < B; b++) {
            expect(rowPtr[b] == b * K, "topK rowPtr[" + b + "] = " + rowPtr[b]);
            final int row = b;
            Integer[] order = new Integer[N];
            for (int i = 0; i < N; i++) {
                order[i] = i;
            }
            Arrays.sort(order, Comparator.<Integer>comparingInt(i -> allow[i] != 0 ? 0 : 1)
                    .thenComparing(i -> allow[i] != 0 ? -h[row * N + i] : 0f)
                    .thenComparingInt(i -> i));
            for (int j = 0; j < K; j++) {
                int want = order[j];
                float wantVal = allow[want] != 0 ? Math.max(h[row * N + want], 0f) : 0f;
                expect(idx[b * K + j] == want && val[b * K + j] == wantVal, "topK row " + b + " slot " + j + ": got ("
                        + idx[b * K + j] + ", " + val[b * K + j] + "), want (" + want + ", " + wantVal + ")");
            }
        }
        expect(rowPtr[B] == B * K, "topK rowPtr[B]");
        codes.close();
        close(th);
        if (ta != null) {
            ta.close();
        }
    }

    void batchTopK(int kTotal) {
        float[] h = gauss(B * N);
        for (int i = 0; i < h.length; i++) {
            h[i] = Math.round(h[i] * 8f) / 8f;   // many ties across rows
        }
        Tensor th = up(B, N, h);
        int capacity = Math.max(kTotal, 1) + 11;
        SparseCodes codes = SparseCodes.allocate(e, B, capacity);
        float thr = e.batchTopK(th, kTotal, codes);
        Integer[] pos = java.util.stream.IntStream.range(0, h.length).filter(i -> h[i] > 0).boxed().toArray(Integer[]::new);
        Arrays.sort(pos, Comparator.<Integer>comparingDouble(i -> -h[i]).thenComparingInt(i -> i));
        int kept = Math.min(kTotal, pos.length);
        int[] keep = new int[kept];
        for (int j = 0; j < kept; j++) {
            keep[j] = pos[j];
        }
        Arrays.sort(keep);
        float minKept = kept == 0 ? 0f : Float.MAX_VALUE;
        int[] rowPtrRef = new int[B + 1];
        for (int f : keep) {
            rowPtrRef[f / N + 1]++;
            minKept = Math.min(minKept, h[f]);
        }
        for (int b = 0; b < B; b++) {
            rowPtrRef[b + 1] += rowPtrRef[b];
        }
        expect(thr == minKept, "batchTopK threshold " + thr + ", want " + minKept);
        int[] rowPtr = downI(codes.rowPtr()), idx = downI(codes.idx());
        float[] val = down(codes.val());
        expect(Arrays.equals(rowPtr, rowPtrRef), "batchTopK rowPtr " + Arrays.toString(rowPtr));
        for (int j = 0; j < kept; j++) {
            expect(idx[j] == keep[j] % N && val[j] == h[keep[j]], "batchTopK entry " + j + ": (" + idx[j] + ", "
                    + val[j] + "), want (" + keep[j] % N + ", " + h[keep[j]] + ")");
        }
        codes.close();
        th.close();
    }

    /** Shapes with nothing to compute still define their outputs (garbage in them beforehand must not survive). */
    void emptyShapes() {
        SparseCodes empty = SparseCodes.allocate(e, 0, 4);
        e.upload(empty.rowPtr(), new int[] {-1});
        Tensor none = e.allocF32(0, N);
        e.topK(none, K, null, empty);
        expect(downI(empty.rowPtr())[0] == 0, "topK on B = 0: rowPtr[0] = " + downI(empty.rowPtr())[0]);
        empty.close();
        none.close();
        SparseCodes codes = SparseCodes.allocate(e, B, B * K);
        int[] garbage = new int[B + 1];
        Arrays.fill(garbage, 77);
        e.upload(codes.rowPtr(), garbage);
        Tensor th = up(B, N, gauss(B * N));
        e.topK(th, 0, null, codes);
        expect(Arrays.equals(downI(codes.rowPtr()), new int[B + 1]), "topK k = 0: rowPtr "
                + Arrays.toString(downI(codes.rowPtr())));
        codes.close();
        th.close();
        float[] c = gauss(5 * 3);
        c[0] = Float.NaN;
        c[1] = Float.POSITIVE_INFINITY;
        Tensor a = e.allocF32(5, 0), b = e.allocF32(0, 3);
        for (float beta : new float[] {0f, 0.5f}) {
            Tensor tc = up(5, 3, c);
            e.gemm(false, false, 1f, a, b, beta, tc);
            double[] ref = new double[c.length];
            for (int i = 0; i < c.length; i++) {
                ref[i] = beta == 0f ? 0 : beta * c[i];
            }
            float[] got = down(tc);
            for (int i = 0; i < c.length; i++) {
                expect(Double.compare(got[i], (float) ref[i]) == 0, "gemm K = 0, beta = " + beta + ": C[" + i + "] = "
                        + got[i] + ", want " + (float) ref[i]);
            }
            tc.close();
        }
        close(a, b);
    }

    /** upload(Tensor, MemorySegment) from native and heap memory; on CUDA also in many small slices. */
    void segmentUpload() {
        float[] data = gauss(B * D);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment nat = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, data);
            java.lang.foreign.MemorySegment heap = java.lang.foreign.MemorySegment.ofArray(data);
            for (java.lang.foreign.MemorySegment src : List.of(nat, heap)) {
                Tensor t = e.allocF32(B, D);
                e.upload(t, src);
                expect(Arrays.equals(down(t), data), "upload from a " + (src.isNative() ? "native" : "heap") + " segment");
                if (e instanceof CudaEngine cuda) {
                    e.fill(t, 0f);
                    cuda.upload(t, src, 7 * 4);   // 7 floats per slice: the offsets must add up
                    expect(Arrays.equals(down(t), data), "sliced upload from a " + (src.isNative() ? "native" : "heap")
                            + " segment");
                }
                t.close();
            }
        }
    }

    /** The sparse backward accumulations give the same bits when run twice on the same inputs. */
    void sparseBackwardReproducible() {
        float[] h = gauss(B * N), w = gauss(N * D), g = gauss(B * D), xc = gauss(B * D), gPre = gauss(B * K);
        Tensor th = up(B, N, h), tw = up(N, D, w), tg = up(B, D, g), txc = up(B, D, xc), tgp = up(1, B * K, gPre);
        SparseCodes codes = SparseCodes.allocate(e, B, B * K);
        e.topK(th, K, null, codes);
        float[][] first = null;
        for (int run = 0; run < 2; run++) {
            Tensor gVal = e.allocF32(1, B * K), gW = e.allocF32(N, D), gWE = e.allocF32(N, D), gBE = e.allocF32(1, N);
            e.sparseDecodeBackward(codes, tg, tw, gVal, gW);
            e.sparseEncoderBackward(codes, tgp, txc, gWE, gBE);
            float[][] now = {down(gVal), down(gW), down(gWE), down(gBE)};
            if (first == null) {
                first = now;
            } else {
                String[] names = {"gVal", "gWDec", "gWEnc", "gBEnc"};
                for (int i = 0; i < names.length; i++) {
                    expect(Arrays.equals(first[i], now[i]), "sparse backward " + names[i] + " differs between runs");
                }
            }
            close(gVal, gW, gWE, gBE);
        }
        codes.close();
        close(th, tw, tg, txc, tgp);
    }

    void sparseDecode() {
        float[] h = gauss(B * N), w = gauss(N * D), bDec = gauss(D), g = gauss(B * D), gW0 = gauss(N * D);
        float[] xc = gauss(B * D), gPre = gauss(B * K), gWE0 = gauss(N * D), gBE0 = gauss(N);
        Tensor th = up(B, N, h), tw = up(N, D, w), tb = up(1, D, bDec), tg = up(B, D, g), tgw = up(N, D, gW0);
        Tensor txc = up(B, D, xc), tgp = up(1, B * K, gPre), tgwe = up(N, D, gWE0), tgbe = up(1, N, gBE0);
        SparseCodes codes = SparseCodes.allocate(e, B, B * K);
        e.topK(th, K, null, codes);
        int[] idx = downI(codes.idx());
        float[] val = down(codes.val());
        Tensor xhat = e.allocF32(B, D), gVal = e.allocF32(1, B * K);
        for (boolean bias : new boolean[] {true, false}) {
            e.sparseDecode(codes, tw, bias ? tb : null, xhat);
            double[] ref = new double[B * D];
            for (int b = 0; b < B; b++) {
                for (int c = 0; c < D; c++) {
                    double s = bias ? bDec[c] : 0;
                    for (int j = b * K; j < (b + 1) * K; j++) {
                        s += (double) val[j] * w[idx[j] * D + c];
                    }
                    ref[b * D + c] = s;
                }
            }
            closeToScale("sparseDecode bias=" + bias, ref, down(xhat), 1e-5);
        }
        e.sparseDecodeBackward(codes, tg, tw, gVal, tgw);
        double[] gValRef = new double[B * K];
        double[] gWRef = toDouble(gW0);
        for (int b = 0; b < B; b++) {
            for (int j = b * K; j < (b + 1) * K; j++) {
                double s = 0;
                for (int c = 0; c < D; c++) {
                    s += (double) g[b * D + c] * w[idx[j] * D + c];
                    if (val[j] != 0) {
                        gWRef[idx[j] * D + c] += (double) val[j] * g[b * D + c];
                    }
                }
                gValRef[j] = s;
            }
        }
        closeToScale("sparseDecodeBackward gVal", gValRef, down(gVal), 1e-5);
        closeToScale("sparseDecodeBackward gWDec", gWRef, down(tgw), 1e-5);
        e.sparseEncoderBackward(codes, tgp, txc, tgwe, tgbe);
        double[] gWERef = toDouble(gWE0), gBERef = toDouble(gBE0);
        for (int b = 0; b < B; b++) {
            for (int j = b * K; j < (b + 1) * K; j++) {
                if (val[j] == 0) {
                    continue;
                }
                gBERef[idx[j]] += gPre[j];
                for (int c = 0; c < D; c++) {
                    gWERef[idx[j] * D + c] += (double) gPre[j] * xc[b * D + c];
                }
            }
        }
        closeToScale("sparseEncoderBackward gWEnc", gWERef, down(tgwe), 1e-5);
        closeToScale("sparseEncoderBackward gBEnc", gBERef, down(tgbe), 1e-5);
        float[] gv = down(gVal);
        e.sparseReluMask(codes, gVal);
        double[] maskRef = new double[B * K];
        for (int j = 0; j < maskRef.length; j++) {
            maskRef[j] = val[j] > 0 ? gv[j] : 0;
        }
        closeRel("sparseReluMask", maskRef, down(gVal), 0, 0);
        codes.close();
        close(th, tw, tb, tg, tgw, txc, tgp, tgwe, tgbe, xhat, gVal);
    }

    /**
     * Matryoshka's prefix kernels on BatchTopK codes (latents ascending per row) with M = 4 groups of uneven sizes:
     * the split row pointers exactly; the split decode (per-group contributions) and its backward, the prefix
     * residuals and the weighted suffix sums against float64 sums.
     */
    void matryoshkaPrefixes() {
        int[] ends = {7, 20, 71, N};
        int m = ends.length;
        float[] h = gauss(B * N), w = gauss(N * D), xc = gauss(B * D), contrib = gauss(B * m * D);
        float[] weights = {0.5f, 0.25f, 1.5f, 0.75f}, g = gauss(B * m * D), gW0 = gauss(N * D);
        Tensor th = up(B, N, h), tw = up(N, D, w), txc = up(B, D, xc), tc = up(B * m, D, contrib);
        Tensor tWeights = up(1, m, weights), tg = up(B * m, D, g), tgw = up(N, D, gW0), tEnds = upI(1, m, ends);
        Tensor full = e.allocF32(B, D), suffix = e.allocF32(B * m, D), split = e.allocI32(1, B * m + 1);
        Tensor parts = e.allocF32(B * m, D), gVal = e.allocF32(1, B * K);
        SparseCodes codes = SparseCodes.allocate(e, B, B * K);
        e.batchTopK(th, B * K, codes);
        int[] rowPtr = downI(codes.rowPtr()), idx = downI(codes.idx());
        float[] val = down(codes.val());

        e.splitRowsAtGroups(codes, tEnds, split);
        int[] splitRef = new int[B * m + 1];
        int[] groupOf = new int[rowPtr[B]];
        for (int b = 0; b < B; b++) {
            for (int gi = 0; gi < m; gi++) {
                int lo = gi == 0 ? 0 : ends[gi - 1];
                int p = rowPtr[b];
                while (p < rowPtr[b + 1] && idx[p] < lo) {
                    p++;
                }
                splitRef[b * m + gi] = p;
            }
            for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                int gi = 0;
                while (idx[j] >= ends[gi]) {
                    gi++;
                }
                groupOf[j] = gi;
            }
        }
        splitRef[B * m] = rowPtr[B];
        expect(Arrays.equals(splitRef, downI(split)), "splitRowsAtGroups " + Arrays.toString(downI(split)));

        SparseCodes groupCodes = new SparseCodes(split, codes.idx(), codes.val(), B * m, codes.capacity());
        e.sparseDecode(groupCodes, tw, null, parts);
        double[] partsRef = new double[B * m * D];
        double[] gValRef = new double[B * K];
        double[] gWRef = toDouble(gW0);
        for (int b = 0; b < B; b++) {
            for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                int row = b * m + groupOf[j];
                double s = 0;
                for (int c = 0; c < D; c++) {
                    partsRef[row * D + c] += (double) val[j] * w[idx[j] * D + c];
                    s += (double) g[row * D + c] * w[idx[j] * D + c];
                    gWRef[idx[j] * D + c] += (double) val[j] * g[row * D + c];
                }
                gValRef[j] = s;
            }
        }
        closeToScale("split sparseDecode", partsRef, down(parts), 1e-5);
        e.sparseDecodeBackward(groupCodes, tg, tw, gVal, tgw);
        closeToScale("split sparseDecodeBackward gVal", gValRef, down(gVal), 1e-5);
        closeToScale("split sparseDecodeBackward gWDec", gWRef, down(tgw), 1e-5);

        e.prefixResiduals(tc, txc, full);
        double[] prefixRef = new double[B * m * D];
        double[] fullRef = new double[B * D];
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < D; c++) {
                double acc = -xc[b * D + c];
                for (int gi = 0; gi < m; gi++) {
                    acc += contrib[(b * m + gi) * D + c];
                    prefixRef[(b * m + gi) * D + c] = acc;
                }
                fullRef[b * D + c] = acc;
            }
        }
        float[] prefix = down(tc);
        closeToScale("prefixResiduals", prefixRef, prefix, 1e-6);
        closeToScale("prefixResiduals fullErr", fullRef, down(full), 1e-6);

        e.weightedSuffixSum(tc, tWeights, suffix);
        double[] suffixRef = new double[B * m * D];
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < D; c++) {
                double acc = 0;
                for (int gi = m - 1; gi >= 0; gi--) {
                    acc += (double) weights[gi] * prefix[(b * m + gi) * D + c];
                    suffixRef[(b * m + gi) * D + c] = acc;
                }
            }
        }
        closeToScale("weightedSuffixSum", suffixRef, down(suffix), 1e-6);
        codes.close();
        close(th, tw, txc, tc, tWeights, tg, tgw, tEnds, full, suffix, split, parts, gVal);
    }

    void elementwise() {
        float[] a = gauss(B * D), b = gauss(B * D);
        Tensor ta = up(B, D, a), tb = up(B, D, b), err = e.allocF32(B, D);
        e.residual(ta, tb, err);
        double[] ref = new double[B * D];
        for (int i = 0; i < ref.length; i++) {
            ref[i] = a[i] - b[i];
        }
        closeRel("residual", ref, down(err), 1e-6, 0);
        e.axpy(-0.37f, ta, tb);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = b[i] + -0.37 * a[i];
        }
        closeRel("axpy", ref, down(tb), 1e-6, 1e-7);
        e.scale(ta, 1.5f);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = a[i] * 1.5f;   // float product: copy below must reproduce it exactly
        }
        closeRel("scale", ref, down(ta), 1e-6, 0);
        e.copy(ta, err);
        closeRel("copy", ref, down(err), 0, 0);
        e.fill(err, 2.25f);
        Arrays.fill(ref, 2.25);
        closeRel("fill", ref, down(err), 0, 0);
        close(ta, tb, err);
    }

    void reductions() {
        float[] a = gauss(B * N), out0 = gauss(N);
        Tensor ta = up(B, N, a), out = up(1, N, out0), rows = e.allocF32(1, B);
        for (boolean acc : new boolean[] {false, true}) {
            Tensor o = up(1, N, out0);
            e.colSum(ta, 0.5f, o, acc);
            double[] ref = new double[N];
            for (int i = 0; i < N; i++) {
                double s = 0;
                for (int b = 0; b < B; b++) {
                    s += a[b * N + i];
                }
                ref[i] = 0.5 * s + (acc ? out0[i] : 0);
            }
            closeToScale("colSum accumulate=" + acc, ref, down(o), 1e-5);
            o.close();
        }
        e.rowSumSquares(ta, rows);
        double[] rs = new double[B];
        double all = 0;
        long positive = 0;
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < N; i++) {
                double v = a[b * N + i];
                rs[b] += v * v;
                positive += v > 0 ? 1 : 0;
            }
            all += rs[b];
        }
        closeRel("rowSumSquares", rs, down(rows), 1e-5, 0);
        double got = e.sumSquares(ta);
        expect(Math.abs(got - all) <= 1e-12 * all, "sumSquares " + got + " vs " + all);
        expect(e.countPositive(ta) == positive, "countPositive " + e.countPositive(ta) + " vs " + positive);
        close(ta, out, rows);
    }

    void fires() {
        float[] f = gauss(B * N);
        int[] fires0 = new int[N];
        for (int i = 0; i < N; i++) {
            fires0[i] = i % 5;
        }
        Tensor tf = up(B, N, f), fires = upI(1, N, fires0);
        e.countFires(tf, fires);
        int[] ref = fires0.clone();
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < N; i++) {
                ref[i] += f[b * N + i] > 0 ? 1 : 0;
            }
        }
        expect(Arrays.equals(ref, downI(fires)), "countFires");
        SparseCodes codes = SparseCodes.allocate(e, B, B * K);
        e.topK(tf, K, null, codes);
        int[] idx = downI(codes.idx());
        float[] val = down(codes.val());
        e.countFiresSparse(codes, fires);
        for (int j = 0; j < B * K; j++) {
            ref[idx[j]] += val[j] > 0 ? 1 : 0;
        }
        expect(Arrays.equals(ref, downI(fires)), "countFiresSparse");
        codes.close();
        close(tf, fires);
    }

    void activationBackward() {
        float[] f = gauss(B * N), gF = gauss(B * N), l1 = gauss(N);
        for (int i = 0; i < f.length; i += 3) {
            f[i] = 0f;   // the masked / inactive entries of a real code
        }
        Tensor tf = up(B, N, f), tg = up(B, N, gF), tl = up(1, N, l1), gH = e.allocF32(B, N);
        for (boolean withL1 : new boolean[] {true, false}) {
            e.reluBackward(tf, tg, withL1 ? tl : null, gH);
            double[] ref = new double[B * N];
            for (int i = 0; i < ref.length; i++) {
                ref[i] = f[i] > 0 ? gF[i] + (withL1 ? l1[i % N] : 0f) : 0;
            }
            closeRel("reluBackward l1=" + withL1, ref, down(gH), 1e-6, 0);
        }
        // JumpReLU: put a good share of pre-activations inside the STE window around θ.
        float eps = 0.25f, l0 = 0.03f;
        float[] lt = new float[N], h = new float[B * N];
        for (int i = 0; i < N; i++) {
            lt[i] = (float) Math.log(0.5 + 0.5 * uniform());
        }
        for (int i = 0; i < h.length; i++) {
            h[i] = (float) (Math.exp(lt[i % N]) + 0.4 * (uniform() - 0.5));
        }
        Tensor th = up(B, N, h), tlt = up(1, N, lt), gLt = e.allocF32(1, N);
        e.jumpReluBackward(th, tlt, tg, eps, l0, gH, gLt);
        double[] gHRef = new double[B * N], gLtRef = new double[N];
        for (int i = 0; i < N; i++) {
            double theta = (float) Math.exp(lt[i]);
            double s = 0;
            for (int b = 0; b < B; b++) {
                int o = b * N + i;
                gHRef[o] = h[o] > theta ? gF[o] : 0;
                double u = (h[o] - theta) / eps;
                if (Math.abs(u) < 0.5) {
                    s += gF[o] * (-theta / eps) - l0 / eps;
                }
            }
            gLtRef[i] = theta * s;
        }
        closeRel("jumpReluBackward gH", gHRef, down(gH), 0, 0);
        closeToScale("jumpReluBackward gLogTheta", gLtRef, down(gLt), 1e-5);
        close(tf, tg, tl, gH, th, tlt, gLt);
    }

    void atmStats() {
        float[] f = gauss(B * N), eDotD = gauss(B * N), dn = new float[N];
        for (int i = 0; i < f.length; i++) {
            f[i] = Math.max(f[i], 0f);
        }
        for (int i = 0; i < N; i++) {
            dn[i] = (float) (0.5 + uniform());
        }
        Tensor tf = up(B, N, f), te = up(B, N, eDotD), tn = up(1, N, dn);
        Tensor a = e.allocF32(1, N), q = e.allocF32(1, N), rho = e.allocF32(1, N);
        e.atmStats(tf, te, tn, a, q, rho);
        double[] aRef = new double[N], qRef = new double[N], rRef = new double[N];
        for (int i = 0; i < N; i++) {
            double sa = 0, sq = 0, sr = 0;
            for (int b = 0; b < B; b++) {
                double v = f[b * N + i];
                sa += v;
                sq += v > 0 ? 1 : 0;
                sr += v * v * dn[i] + 2 * v * eDotD[b * N + i];
            }
            aRef[i] = sa / B;
            qRef[i] = sq / B;
            rRef[i] = Math.max(0, sr / B);
        }
        closeToScale("atmStats a", aRef, down(a), 1e-5);
        closeRel("atmStats q", qRef, down(q), 1e-6, 0);
        closeToScale("atmStats rho", rRef, down(rho), 1e-5);
        close(tf, te, tn, a, q, rho);
    }

    void atmMask() {
        float[] f = gauss(B * N), p = new float[N];
        for (int i = 0; i < N; i++) {
            p[i] = (float) (0.9 * uniform());
        }
        Tensor tf = up(B, N, f), tp = up(1, N, p), out = e.allocF32(B, N);
        long seed = 0x1234_5678_9ABCL, step = (1L << 32) + 17, rowOffset = 4_000_000_123L;
        e.atmMask(tf, tp, seed, step, rowOffset, out);
        float[] got = down(out);
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < N; i++) {
                float u = Philox.maskUniform(seed, step, rowOffset + b, i);
                float want = u < p[i] ? 0f : f[b * N + i];
                expect(Float.floatToRawIntBits(got[b * N + i]) == Float.floatToRawIntBits(want),
                        "atmMask token " + b + " latent " + i + ": " + got[b * N + i] + " want " + want);
            }
        }
        close(tf, tp, out);
    }

    void scaleColumns() {
        float[] t = gauss(B * N), sc = gauss(N);
        Tensor tt = up(B, N, t), ts = up(1, N, sc);
        e.scaleColumns(tt, ts);
        double[] ref = new double[B * N];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < N; i++) {
                ref[b * N + i] = t[b * N + i] * sc[i];
            }
        }
        closeRel("scaleColumns", ref, down(tt), 1e-6, 0);
        close(tt, ts);
    }

    /** BatchTopK codes (rows of different lengths, an unused tail), masked with and without rescaling. */
    void atmMaskSparse() {
        float[] h = gauss(B * N), p = new float[N], sc = new float[N], values = gauss(B * K);
        for (int i = 0; i < N; i++) {
            p[i] = (float) (0.9 * uniform());
            sc[i] = 1f / (1f - p[i]);
        }
        Tensor th = up(B, N, h), tp = up(1, N, p), ts = up(1, N, sc), tv = up(1, B * K, values);
        Tensor out = e.allocF32(1, B * K);
        SparseCodes codes = SparseCodes.allocate(e, B, B * K);
        e.batchTopK(th, B * K / 2, codes);
        int[] rowPtr = downI(codes.rowPtr()), idx = downI(codes.idx());
        long seed = 0x1234_5678_9ABCL, step = (1L << 32) + 17, rowOffset = 4_000_000_123L;
        for (boolean rescale : new boolean[] {false, true}) {
            e.atmMaskSparse(codes, tv, tp, rescale ? ts : null, seed, step, rowOffset, out);
            float[] got = down(out);
            int masked = 0;
            for (int b = 0; b < B; b++) {
                for (int j = rowPtr[b]; j < rowPtr[b + 1]; j++) {
                    int i = idx[j];
                    boolean drop = Philox.maskUniform(seed, step, rowOffset + b, i) < p[i];
                    masked += drop ? 1 : 0;
                    float want = drop ? 0f : rescale ? values[j] * sc[i] : values[j];
                    expect(Float.floatToRawIntBits(got[j]) == Float.floatToRawIntBits(want),
                            "atmMaskSparse rescale=" + rescale + " entry " + j + ": " + got[j] + " want " + want);
                }
            }
            for (int j = rowPtr[B]; j < B * K; j++) {
                expect(got[j] == 0f, "atmMaskSparse tail entry " + j + " = " + got[j]);
            }
            expect(masked > 0 && rowPtr[B] < B * K, "the check exercises masking and a tail");
        }
        close(th, tp, ts, tv, out);
        codes.close();
    }

    void optimiser() {
        float[] w = gauss(N * D), g = gauss(N * D), m0 = gauss(N * D), v0 = new float[N * D];
        for (int i = 0; i < v0.length; i++) {
            v0[i] = (float) (0.01 + uniform());
        }
        Tensor tw = up(N, D, w), tg = up(N, D, g), tm = up(N, D, m0), tv = up(N, D, v0);
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, gs = 0.8f;
        long step = 7;
        e.adam(tw, tg, tm, tv, lr, b1, b2, eps, step, gs);
        double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
        double[] wRef = new double[w.length], mRef = new double[w.length], vRef = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            double gi = gs * g[i];
            mRef[i] = b1 * m0[i] + (1 - b1) * gi;
            vRef[i] = b2 * v0[i] + (1 - b2) * gi * gi;
            wRef[i] = w[i] - lr * (mRef[i] / bc1) / (Math.sqrt(vRef[i] / bc2) + eps);
        }
        closeRel("adam m", mRef, down(tm), 1e-5, 1e-7);
        closeRel("adam v", vRef, down(tv), 1e-5, 1e-9);
        closeRel("adam param", wRef, down(tw), 1e-5, 1e-7);
        float[] wNow = down(tw);
        e.removeParallelComponent(tw, tg);
        double[] gRef = new double[g.length], wn = new double[w.length];
        for (int r = 0; r < N; r++) {
            double dot = 0, nrm = 0;
            for (int c = 0; c < D; c++) {
                dot += (double) g[r * D + c] * wNow[r * D + c];
                nrm += (double) wNow[r * D + c] * wNow[r * D + c];
            }
            for (int c = 0; c < D; c++) {
                gRef[r * D + c] = g[r * D + c] - dot / nrm * wNow[r * D + c];
                wn[r * D + c] = wNow[r * D + c] / Math.sqrt(nrm);
            }
        }
        closeToScale("removeParallelComponent", gRef, down(tg), 1e-5);
        e.normalizeRows(tw);
        closeRel("normalizeRows", wn, down(tw), 1e-5, 1e-7);
        close(tw, tg, tm, tv);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private float[] gauss(int count) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            float v;
            do {
                v = (float) Philox.gaussian(SEED, Philox.STREAM_SYNTH, stream++);
            } while (v == 0f);
            out[i] = v;
        }
        return out;
    }

    private double uniform() {
        return Philox.uniform(SEED, Philox.STREAM_SYNTH, stream++);
    }

    private Tensor up(int rows, int cols, float[] data) {
        Tensor t = e.allocF32(rows, cols);
        e.upload(t, data);
        return t;
    }

    private Tensor upI(int rows, int cols, int[] data) {
        Tensor t = e.allocI32(rows, cols);
        e.upload(t, data);
        return t;
    }

    private float[] down(Tensor t) {
        float[] out = new float[(int) t.size()];
        e.download(t, out);
        return out;
    }

    private int[] downI(Tensor t) {
        int[] out = new int[(int) t.size()];
        e.download(t, out);
        return out;
    }

    private static double[] toDouble(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static void close(Tensor... ts) {
        for (Tensor t : ts) {
            t.close();
        }
    }

    private static void expect(boolean ok, String message) {
        if (!ok) {
            throw new Mismatch(message);
        }
    }

    /** |got − ref| ≤ atol + rtol·|ref| everywhere. */
    static void closeRel(String what, double[] ref, float[] got, double rtol, double atol) {
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - ref[i]);
            if (!(err <= atol + rtol * Math.abs(ref[i]))) {
                throw new Mismatch(what + "[" + i + "] = " + got[i] + ", reference " + ref[i] + " (rtol " + rtol
                        + ", atol " + atol + ")");
            }
        }
    }

    /** |got − ref| ≤ tol·max|ref| everywhere (sums whose terms cancel). */
    static void closeToScale(String what, double[] ref, float[] got, double tol) {
        double scale = 0;
        for (double v : ref) {
            scale = Math.max(scale, Math.abs(v));
        }
        closeRel(what, ref, got, 0, tol * Math.max(scale, 1e-30));
    }
}
