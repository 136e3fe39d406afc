package dev.atmsae.engine.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.F;
import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.store;

/**
 * The pure-Java BLAS: a register-blocked sgemm on the Vector API (4 rows × 2 vectors of C per block).
 *
 * <p>Every element of C is the same computation wherever it falls — a block, a narrower block or the scalar tail:
 * acc = fma(a_il, b_lj, acc) for l = 0, 1, …, k−1 from acc = 0, then alpha·acc (+ beta·c). A lane-wise fma is exactly
 * {@link Math#fma}, in the interpreter as in compiled code, so results depend neither on the tiling, nor on the
 * thread count, nor on how far the JIT has got. (dev.ludovic.netlib's Java BLAS, used before, gave different bits
 * before and after JIT warm-up.)
 *
 * <p>{@link #bind} copies op(B) once per product into row-major heap scratch [k, n] (transposing when B is stored
 * [n, k]), so the inner loop reads B with unit stride whatever the transposition; A is read in place.
 */
final class JavaGemm implements DenseBlas {
    /** Rows of C per register block (with 2 vectors per row: 8 accumulators, 2 B vectors and 4 broadcasts). */
    private static final int ROWS = 4;

    private final String reason;
    /** op(B) as row-major [k, n]. */
    private float[] packedB = new float[0];
    // The bound product. A's element (i, l) is at i·aRowStride + l·aInnerStride.
    private int n;
    private int k;
    private float alpha;
    private float beta;
    private MemorySegment a;
    private MemorySegment c;
    private long aRowStride;
    private long aInnerStride;
    private int ldc;

    /** @param reason why the pure-Java BLAS runs (for {@link #describe()}) */
    JavaGemm(String reason) {
        this.reason = reason;
    }

    @Override
    public void bind(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b,
                     float beta, CpuTensor c) {
        this.n = n;
        this.k = k;
        this.alpha = alpha;
        this.beta = beta;
        this.a = a.segment();
        this.c = c.segment();
        int lda = Math.max(1, a.cols());
        this.aRowStride = transA ? 1 : lda;
        this.aInnerStride = transA ? lda : 1;
        this.ldc = Math.max(1, c.cols());
        packB(transB, b, n, k);
    }

    private void packB(boolean transB, CpuTensor b, int n, int k) {
        long size = (long) k * n;
        if (packedB.length < size) {
            packedB = new float[Math.toIntExact(size)];
        }
        MemorySegment src = b.segment();
        if (!transB) {
            MemorySegment.copy(src, Vec.F32, 0, packedB, 0, (int) size);
            return;
        }
        int ldb = Math.max(1, b.cols());
        for (int j = 0; j < n; j++) {
            long row = (long) j * ldb;
            for (int l = 0; l < k; l++) {
                packedB[l * n + j] = get(src, row + l);
            }
        }
    }

    @Override
    public void tile(int row0, int rows, int col0, int cols) {
        int rowEnd = row0 + rows;
        int colEnd = col0 + cols;
        int j = col0;
        for (; j + 2 * L <= colEnd; j += 2 * L) {
            int i = row0;
            for (; i + ROWS <= rowEnd; i += ROWS) {
                block4x2(i, j);
            }
            for (; i < rowEnd; i++) {
                block1x1(i, j);
                block1x1(i, j + L);
            }
        }
        for (; j + L <= colEnd; j += L) {
            for (int i = row0; i < rowEnd; i++) {
                block1x1(i, j);
            }
        }
        for (; j < colEnd; j++) {
            for (int i = row0; i < rowEnd; i++) {
                scalar(i, j);
            }
        }
    }

    private void block4x2(int i, int j) {
        float[] pb = packedB;
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F);
        FloatVector c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F);
        FloatVector c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F);
        FloatVector c31 = FloatVector.zero(F);
        long a0 = i * aRowStride;
        long a1 = a0 + aRowStride;
        long a2 = a1 + aRowStride;
        long a3 = a2 + aRowStride;
        for (int l = 0; l < k; l++) {
            int bo = l * n + j;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + L);
            long al = l * aInnerStride;
            FloatVector x0 = FloatVector.broadcast(F, get(a, a0 + al));
            FloatVector x1 = FloatVector.broadcast(F, get(a, a1 + al));
            FloatVector x2 = FloatVector.broadcast(F, get(a, a2 + al));
            FloatVector x3 = FloatVector.broadcast(F, get(a, a3 + al));
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        long out = (long) i * ldc + j;
        write(c00, out);
        write(c01, out + L);
        write(c10, out + ldc);
        write(c11, out + ldc + L);
        write(c20, out + 2L * ldc);
        write(c21, out + 2L * ldc + L);
        write(c30, out + 3L * ldc);
        write(c31, out + 3L * ldc + L);
    }

    private void block1x1(int i, int j) {
        float[] pb = packedB;
        FloatVector acc = FloatVector.zero(F);
        long ai = i * aRowStride;
        for (int l = 0; l < k; l++) {
            FloatVector x = FloatVector.broadcast(F, get(a, ai + l * aInnerStride));
            acc = x.fma(FloatVector.fromArray(F, pb, l * n + j), acc);
        }
        write(acc, (long) i * ldc + j);
    }

    private void scalar(int i, int j) {
        float[] pb = packedB;
        float acc = 0f;
        long ai = i * aRowStride;
        for (int l = 0; l < k; l++) {
            acc = Math.fma(get(a, ai + l * aInnerStride), pb[l * n + j], acc);
        }
        long out = (long) i * ldc + j;
        set(c, out, beta == 0f ? alpha * acc : alpha * acc + beta * get(c, out));
    }

    /** C = alpha·acc (+ beta·C), lane by lane exactly as {@link #scalar} does it. */
    private void write(FloatVector acc, long out) {
        FloatVector scaled = acc.mul(alpha);
        store(beta == 0f ? scaled : scaled.add(load(c, out).mul(beta)), c, out);
    }

    @Override
    public String describe() {
        return "pure-Java Vector API sgemm (" + reason + ")";
    }
}
