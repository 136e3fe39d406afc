package dev.atmsae.engine.cpu;

import java.lang.invoke.MethodHandle;

/**
 * OpenBLAS's {@code cblas_sgemm} on one output tile, called through FFM on the tensors' own off-heap memory (no
 * copies). The library runs single-threaded ({@link OpenBlasLibrary} sets its thread count to 1 once); the parallelism
 * is {@link TiledGemm}'s, which runs several of these calls at once on disjoint tiles (OpenBLAS is reentrant).
 */
final class OpenBlas implements DenseBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    private final OpenBlasLibrary library;
    // The bound product; addresses in bytes, leading dimensions in floats.
    private int transA;
    private int transB;
    private int k;
    private float alpha;
    private float beta;
    private long addressA;
    private long addressB;
    private long addressC;
    private int lda;
    private int ldb;
    private int ldc;

    OpenBlas(OpenBlasLibrary library) {
        this.library = library;
    }

    @Override
    public void bind(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b,
                     float beta, CpuTensor c) {
        this.transA = transA ? TRANS : NO_TRANS;
        this.transB = transB ? TRANS : NO_TRANS;
        this.k = k;
        this.alpha = alpha;
        this.beta = beta;
        this.addressA = a.segment().address();
        this.addressB = b.segment().address();
        this.addressC = c.segment().address();
        this.lda = Math.max(1, a.cols());
        this.ldb = Math.max(1, b.cols());
        this.ldc = Math.max(1, c.cols());
    }

    @Override
    public void tile(int row0, int rows, int col0, int cols) {
        // op(A)'s rows row0..: rows of A, or its columns when A is stored [k, m]; op(B)'s columns col0..: columns of
        // B, or its rows when B is stored [n, k].
        long offA = transA == TRANS ? row0 : (long) row0 * lda;
        long offB = transB == TRANS ? (long) col0 * ldb : col0;
        long offC = (long) row0 * ldc + col0;
        MethodHandle sgemm = library.sgemm();
        try {
            sgemm.invokeExact(ROW_MAJOR, transA, transB, rows, cols, k, alpha, addressA + offA * Float.BYTES, lda,
                    addressB + offB * Float.BYTES, ldb, beta, addressC + offC * Float.BYTES, ldc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    @Override
    public String describe() {
        return library.describe() + " via FFM, single-threaded per tile";
    }
}
