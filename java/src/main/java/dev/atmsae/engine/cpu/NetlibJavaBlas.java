package dev.atmsae.engine.cpu;

import dev.ludovic.netlib.blas.JavaBLAS;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The pure-Java fallback: dev.ludovic.netlib's Java BLAS (VectorBLAS on JDK ≥ 16 with jdk.incubator.vector). It is
 * Fortran column-major on heap arrays, so operands are copied into reusable heap scratch and the row-major product
 * C = op(A)·op(B) is computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ. Rows of C are cut into fixed blocks of
 * {@link #BLOCK_ROWS} (independent of the thread count, so results are too) that the pool's threads share.
 */
final class NetlibJavaBlas implements DenseBlas {
    private static final int BLOCK_ROWS = 64;

    private final JavaBLAS blas = JavaBLAS.getInstance();
    private final WorkerPool pool;
    private float[] heapA = new float[0];
    private float[] heapB = new float[0];
    private float[] heapC = new float[0];

    NetlibJavaBlas(WorkerPool pool) {
        this.pool = pool;
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b,
                      float beta, CpuTensor c) {
        if (m == 0 || n == 0) {
            return;
        }
        float[] ha = toHeap(a.segment(), a.size(), heapA);
        heapA = ha;
        float[] hb = toHeap(b.segment(), b.size(), heapB);
        heapB = hb;
        float[] hc = heapC.length >= c.size() ? heapC : new float[(int) c.size()];
        heapC = hc;
        if (beta != 0f) {
            MemorySegment.copy(c.segment(), ValueLayout.JAVA_FLOAT, 0, hc, 0, (int) c.size());
        }
        int lda = Math.max(1, a.cols());
        int ldb = Math.max(1, b.cols());
        // Column-major view: the row-major B [.., ldb] is Bᵀ with leading dimension ldb, so op(B)ᵀ needs "N" when
        // B is not transposed; likewise for A. C's rows m0..m1 are the column-major Cᵀ's columns m0..m1.
        String opB = transB ? "T" : "N";
        String opA = transA ? "T" : "N";
        int blocks = (m + BLOCK_ROWS - 1) / BLOCK_ROWS;
        pool.run(blocks, 1, (worker, from, to) -> {
            for (int blk = from; blk < to; blk++) {
                int m0 = blk * BLOCK_ROWS;
                int rows = Math.min(BLOCK_ROWS, m - m0);
                // op(A)ᵀ's columns m0.. : rows m0.. of A (offset m0·lda) or, when A is stored [k, m], its columns.
                int offA = transA ? m0 : m0 * lda;
                blas.sgemm(opB, opA, n, rows, k, alpha, hb, 0, ldb, ha, offA, lda, beta, hc, m0 * n, n);
            }
        });
        MemorySegment.copy(hc, 0, c.segment(), ValueLayout.JAVA_FLOAT, 0, (int) c.size());
    }

    private static float[] toHeap(MemorySegment src, long size, float[] scratch) {
        float[] dst = scratch.length >= size ? scratch : new float[Math.toIntExact(size)];
        MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, 0, dst, 0, (int) size);
        return dst;
    }

    @Override
    public String describe() {
        return "pure Java " + blas.getClass().getSimpleName() + " (dev.ludovic.netlib)";
    }
}
