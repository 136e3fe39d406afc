package dev.atmsae.engine.cpu;

/** Row-major single-precision matrix product behind {@link CpuEngine#gemm}; shapes are checked by the engine. */
interface DenseBlas {
    /**
     * C[m, n] = alpha·op(A)·op(B) + beta·C, row-major, op(A) [m, k], op(B) [k, n]; A is stored [m, k] (or [k, m]
     * when transA), B [k, n] (or [n, k] when transB).
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b, float beta,
               CpuTensor c);

    /** Which implementation, for {@link CpuEngine#describe()}. */
    String describe();
}
