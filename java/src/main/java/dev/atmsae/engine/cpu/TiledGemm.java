package dev.atmsae.engine.cpu;

/**
 * Dense products C[m, n] = alpha·op(A)·op(B) + beta·C, row-major, cut into output tiles that the pool's workers take
 * one at a time, each computed by one single-threaded {@link DenseBlas#tile} call.
 *
 * <p>Thread-count independence by design: the tiling depends only on the shape (m, n, k) — never on the number of
 * threads — and never splits the inner dimension k, so every element of C is computed by the same BLAS call shape, at
 * the same position inside the same tile, whichever worker runs it and however many workers there are. (One
 * multi-threaded BLAS call gives no such promise: how it partitions C, and so which micro-kernel edge case an element
 * falls into, depends on the thread count; OpenBLAS's Zen kernels do round differently there.)
 *
 * <p>Tile shape: C is cut into row tiles {@link #TILE} rows high (the last one shorter) when it has more than
 * {@link #TILE} rows, else into column tiles {@link #TILE} wide (the b_dec gradient, m = 1). Each tile packs the
 * operand the tiles share again (B for row tiles, A for column tiles): measured one-thread cost against one call of
 * the whole product at the bench shapes (m = 4096 or 6144, n = 6144 or 384, k = 384 to 6144): row tiles of 512 cost
 * 5–7%, of 1024 3–5%; column tiles cost 2–3 times more (OpenBLAS re-packs the row-side operand with the kernel
 * running), hence rows first. 512 keeps 8 to 12 tiles at those shapes, enough to keep two workers busy on a loaded
 * machine. Products too small to pay for waking threads ({@link #SMALL_MACS}) are one tile.
 */
final class TiledGemm {
    /** Width of a tile along the split side of C; a multiple of every OpenBLAS sgemm micro-kernel's M and N. */
    static final int TILE = 512;
    /** Products of fewer multiply-adds than this run as one tile (waking a worker costs microseconds). */
    static final long SMALL_MACS = 1L << 20;

    private final WorkerPool pool;
    private final DenseBlas blas;
    private final WorkerPool.RangeBody tileBody = this::runTiles;

    // The product being computed: set before the pool runs (its hand-off publishes them to the workers).
    private int m;
    private int n;
    private boolean byRows;
    private int tileWidth;

    TiledGemm(WorkerPool pool, DenseBlas blas) {
        this.pool = pool;
        this.blas = blas;
    }

    DenseBlas blas() {
        return blas;
    }

    /** Whether an m × n output is cut into row tiles (else column tiles). */
    static boolean byRows(int m, int n) {
        return m > TILE || m >= n;
    }

    /** The number of tiles of an m × n output with inner dimension k (a function of the shape alone). */
    static int tileCount(int m, int n, int k) {
        if ((long) m * n * k < SMALL_MACS) {
            return 1;
        }
        return ((byRows(m, n) ? m : n) + TILE - 1) / TILE;
    }

    /** C = alpha·op(A)·op(B) + beta·C; shapes are checked by the engine, k ≥ 1. */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CpuTensor a, CpuTensor b,
               float beta, CpuTensor c) {
        if (m == 0 || n == 0) {
            return;
        }
        int tiles = tileCount(m, n, k);
        this.m = m;
        this.n = n;
        this.byRows = byRows(m, n);
        this.tileWidth = tiles == 1 ? (byRows ? m : n) : TILE;
        blas.bind(transA, transB, m, n, k, alpha, a, b, beta, c);
        pool.run(tiles, 1, tileBody);
    }

    private void runTiles(int worker, int from, int to) {
        for (int t = from; t < to; t++) {
            int start = t * tileWidth;
            if (byRows) {
                blas.tile(start, Math.min(tileWidth, m - start), 0, n);
            } else {
                blas.tile(0, m, start, Math.min(tileWidth, n - start));
            }
        }
    }
}
