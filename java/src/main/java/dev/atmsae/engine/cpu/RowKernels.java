package dev.atmsae.engine.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.store;

/** Kernels whose output is per row (or a whole-tensor total built from fixed blocks): parts own whole rows. */
final class RowKernels {
    private static final int GRAIN_ELEMENTS = 1 << 14;
    /** Fixed block of the whole-tensor reductions: partial sums per block, then summed in block order. */
    private static final int BLOCK = 1 << 14;

    /** Doubles with half as many lanes as {@link Vec#F}: one float vector's elements fill two of these. */
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, VectorShape.forBitSize(Vec.F.vectorBitSize()));
    /**
     * Floats with as many lanes as {@link #D}. Widening one of these into D keeps the lane count, which C2 compiles to
     * one conversion instruction; converting half of a full float vector (convertShape with part 0/1) changes the lane
     * count and ran through the Vector API's Java fallback — a tenth of a TopK training step's time in sumSquares.
     */
    private static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

    private final WorkerPool pool;
    private double[] blockSums = new double[0];
    private long[] blockCounts = new long[0];

    RowKernels(WorkerPool pool) {
        this.pool = pool;
    }

    private static int rowGrain(int cols) {
        return Math.max(1, GRAIN_ELEMENTS / Math.max(1, cols));
    }

    /** out[i] = Σ_j w[i, j]² (vector dot, order depends only on cols). */
    void rowSumSquares(MemorySegment w, MemorySegment out, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                long base = (long) i * cols;
                set(out, i, Vec.dot(w, base, w, base, cols));
            }
        });
    }

    /** g_i −= (g_i·w_i / ‖w_i‖²)·w_i; rows with ‖w_i‖ = 0 are left alone. */
    void removeParallelComponent(MemorySegment w, MemorySegment g, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                long base = (long) i * cols;
                float normSq = Vec.dot(w, base, w, base, cols);
                if (normSq > 0f) {
                    float coeff = Vec.dot(g, base, w, base, cols) / normSq;
                    Vec.axpy(-coeff, w, base, g, base, cols);
                }
            }
        });
    }

    /** w_i /= ‖w_i‖ unless ‖w_i‖ = 0. */
    void normalizeRows(MemorySegment w, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                long base = (long) i * cols;
                float norm = (float) Math.sqrt(Vec.dot(w, base, w, base, cols));
                if (norm > 0f) {
                    int j = 0;
                    for (; j + L <= cols; j += L) {
                        store(load(w, base + j).div(norm), w, base + j);
                    }
                    for (; j < cols; j++) {
                        set(w, base + j, get(w, base + j) / norm);
                    }
                }
            }
        });
    }

    /** Σ t² in float64: per fixed block a float64 sum in index order, then the blocks in order. */
    double sumSquares(MemorySegment t, long size) {
        int blocks = Math.toIntExact((size + BLOCK - 1) / BLOCK);
        if (blockSums.length < blocks) {
            blockSums = new double[blocks];
        }
        double[] sums = blockSums;
        pool.run(blocks, 4, (worker, from, to) -> {
            for (int blk = from; blk < to; blk++) {
                long start = (long) blk * BLOCK;
                long end = Math.min(size, start + BLOCK);
                // Float64 lanes (squares of floats are exact in float64); lanes then the tail in a fixed order.
                DoubleVector s0 = DoubleVector.zero(D);
                DoubleVector s1 = DoubleVector.zero(D);
                long i = start;
                for (; i + L <= end; i += L) {
                    // elements i .. i+L/2−1 into s0's lanes, the next L/2 into s1's (the split of one F vector)
                    DoubleVector lo = (DoubleVector) FloatVector.fromMemorySegment(FH, t, i << 2, Vec.ORDER)
                            .convertShape(VectorOperators.F2D, D, 0);
                    DoubleVector hi = (DoubleVector) FloatVector.fromMemorySegment(FH, t, (i + FH.length()) << 2, Vec.ORDER)
                            .convertShape(VectorOperators.F2D, D, 0);
                    s0 = lo.fma(lo, s0);
                    s1 = hi.fma(hi, s1);
                }
                DoubleVector both = s0.add(s1);
                double total = 0;
                for (int lane = 0; lane < D.length(); lane++) {
                    total += both.lane(lane);
                }
                for (; i < end; i++) {
                    double a = get(t, i);
                    total += a * a;
                }
                sums[blk] = total;
            }
        });
        double total = 0;
        for (int blk = 0; blk < blocks; blk++) {
            total += sums[blk];
        }
        return total;
    }

    /** Number of entries &gt; 0. */
    long countPositive(MemorySegment t, long size) {
        int blocks = Math.toIntExact((size + BLOCK - 1) / BLOCK);
        if (blockCounts.length < blocks) {
            blockCounts = new long[blocks];
        }
        long[] counts = blockCounts;
        pool.run(blocks, 4, (worker, from, to) -> {
            for (int blk = from; blk < to; blk++) {
                long start = (long) blk * BLOCK;
                long end = Math.min(size, start + BLOCK);
                long count = 0;
                long i = start;
                for (; i + L <= end; i += L) {
                    count += load(t, i).compare(VectorOperators.GT, 0f).trueCount();
                }
                for (; i < end; i++) {
                    if (get(t, i) > 0f) {
                        count++;
                    }
                }
                counts[blk] = count;
            }
        });
        long total = 0;
        for (int blk = 0; blk < blocks; blk++) {
            total += counts[blk];
        }
        return total;
    }
}
