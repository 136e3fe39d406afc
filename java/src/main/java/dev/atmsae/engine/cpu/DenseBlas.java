package dev.atmsae.engine.cpu;

/**
 * A row-major sgemm computed tile by tile, the unit {@link TiledGemm} hands to the pool's workers. One product is
 * bound first; each {@link #tile} call then computes one block of its output, single-threaded. Implementations must
 * let several threads run {@link #tile} at once on disjoint tiles.
 */
interface DenseBlas {
    /**
     * Makes C[m, n] = alpha·op(A)·op(B) + beta·C (op(A) [m, k], op(B) [k, n]; A stored [m, k], or [k, m] when transA;
     * B stored [k, n], or [n, k] when transB; beta = 0 ignores C's contents) the product the following tiles compute.
     */
    void bind(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b, float beta,
              CpuTensor c);

    /** Computes C[row0 .. row0+rows, col0 .. col0+cols] of the bound product, over the whole inner dimension. */
    void tile(int row0, int rows, int col0, int cols);

    /** Which implementation, for {@link CpuEngine#describe()}. */
    String describe();
}
