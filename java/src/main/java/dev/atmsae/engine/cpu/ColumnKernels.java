package dev.atmsae.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.F;
import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.geti;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.seti;
import static dev.atmsae.engine.cpu.Vec.store;

/**
 * Reductions over the batch rows of a [rows, cols] tensor into one value per column. Parts own column ranges; within
 * a part, columns are processed in tiles of {@link WorkerScratch#TILE} whose accumulators stay in L1 while the rows
 * stream by in order, so every column's sum runs over b = 0, 1, … in the same order whatever the partition (the
 * lane-wise add of the vector body equals the scalar tail's add).
 */
final class ColumnKernels {
    private static final int GRAIN_COLUMNS = 64;

    private final WorkerPool pool;
    private final WorkerScratch[] scratch;

    ColumnKernels(WorkerPool pool, WorkerScratch[] scratch) {
        this.pool = pool;
        this.scratch = scratch;
    }

    /** out[j] = alpha·Σ_b a[b, j] (+ out[j] when accumulating). */
    void colSum(MemorySegment a, int rows, int cols, float alpha, MemorySegment out, boolean accumulate) {
        pool.run(cols, GRAIN_COLUMNS, (w, from, to) -> {
            float[] acc = scratch[w].acc0;
            for (int t = from; t < to; t += WorkerScratch.TILE) {
                int width = Math.min(WorkerScratch.TILE, to - t);
                java.util.Arrays.fill(acc, 0, width, 0f);
                for (int b = 0; b < rows; b++) {
                    long base = (long) b * cols + t;
                    int j = 0;
                    for (; j + L <= width; j += L) {
                        FloatVector.fromArray(F, acc, j).add(load(a, base + j)).intoArray(acc, j);
                    }
                    for (; j < width; j++) {
                        acc[j] += get(a, base + j);
                    }
                }
                for (int j = 0; j < width; j++) {
                    float s = alpha * acc[j];
                    set(out, t + j, accumulate ? s + get(out, t + j) : s);
                }
            }
        });
    }

    /** fires[j] += #{b : f[b, j] &gt; 0}. */
    void countFires(MemorySegment f, int rows, int cols, MemorySegment fires) {
        pool.run(cols, GRAIN_COLUMNS, (w, from, to) -> {
            float[] acc = scratch[w].acc0; // counts ≤ rows < 2²⁴ are exact in float32
            for (int t = from; t < to; t += WorkerScratch.TILE) {
                int width = Math.min(WorkerScratch.TILE, to - t);
                java.util.Arrays.fill(acc, 0, width, 0f);
                FloatVector one = FloatVector.broadcast(F, 1f);
                for (int b = 0; b < rows; b++) {
                    long base = (long) b * cols + t;
                    int j = 0;
                    for (; j + L <= width; j += L) {
                        VectorMask<Float> fired = load(f, base + j).compare(VectorOperators.GT, 0f);
                        FloatVector.fromArray(F, acc, j).add(one, fired).intoArray(acc, j);
                    }
                    for (; j < width; j++) {
                        if (get(f, base + j) > 0f) {
                            acc[j] += 1f;
                        }
                    }
                }
                for (int j = 0; j < width; j++) {
                    seti(fires, t + j, geti(fires, t + j) + (int) acc[j]);
                }
            }
        });
    }

    /**
     * ATM statistics: a_j = Σ_b f / B, q_j = #{f &gt; 0} / B, rho_j = max(0, Σ_b (f·f·dNormSq_j + 2f·eDotD) / B),
     * each term evaluated as ((f·f)·dNormSq) + ((2·f)·eDotD) without fusion.
     */
    void atmStats(MemorySegment f, MemorySegment eDotD, MemorySegment dNormSq, int rows, int cols,
                  MemorySegment a, MemorySegment q, MemorySegment rho) {
        pool.run(cols, GRAIN_COLUMNS, (w, from, to) -> {
            float[] sumF = scratch[w].acc0;
            float[] fired = scratch[w].acc1;
            float[] sumR = scratch[w].acc2;
            FloatVector one = FloatVector.broadcast(F, 1f);
            for (int t = from; t < to; t += WorkerScratch.TILE) {
                int width = Math.min(WorkerScratch.TILE, to - t);
                java.util.Arrays.fill(sumF, 0, width, 0f);
                java.util.Arrays.fill(fired, 0, width, 0f);
                java.util.Arrays.fill(sumR, 0, width, 0f);
                for (int b = 0; b < rows; b++) {
                    long base = (long) b * cols + t;
                    int j = 0;
                    for (; j + L <= width; j += L) {
                        FloatVector fv = load(f, base + j);
                        FloatVector dn = load(dNormSq, t + j);
                        FloatVector term = fv.mul(fv).mul(dn).add(fv.mul(2f).mul(load(eDotD, base + j)));
                        FloatVector.fromArray(F, sumF, j).add(fv).intoArray(sumF, j);
                        FloatVector.fromArray(F, fired, j).add(one, fv.compare(VectorOperators.GT, 0f))
                                .intoArray(fired, j);
                        FloatVector.fromArray(F, sumR, j).add(term).intoArray(sumR, j);
                    }
                    for (; j < width; j++) {
                        float fv = get(f, base + j);
                        float term = fv * fv * get(dNormSq, t + j) + 2f * fv * get(eDotD, base + j);
                        sumF[j] += fv;
                        if (fv > 0f) {
                            fired[j] += 1f;
                        }
                        sumR[j] += term;
                    }
                }
                for (int j = 0; j < width; j++) {
                    set(a, t + j, sumF[j] / rows);
                    set(q, t + j, fired[j] / rows);
                    set(rho, t + j, Math.max(0f, sumR[j] / rows));
                }
            }
        });
    }

    /**
     * JumpReLU backward (architectures.md, rectangle-kernel STE): gH = h &gt; θ_j ? gF : 0 and
     * gLogTheta_j = θ_j·Σ_b K_bj·(gF·(−θ_j/ε) + l0Coeff·(−1/ε)), K = 1[|(h − θ_j)/ε| &lt; ½].
     */
    void jumpReluBackward(MemorySegment h, float[] theta, MemorySegment gF, float eps, float l0Coeff,
                          MemorySegment gH, MemorySegment gLogTheta, int rows, int cols) {
        float l0Term = l0Coeff * (-1f / eps);
        pool.run(cols, GRAIN_COLUMNS, (w, from, to) -> {
            float[] sum = scratch[w].acc0;
            float[] slope = scratch[w].acc1; // −θ_j/ε for the tile's columns
            for (int t = from; t < to; t += WorkerScratch.TILE) {
                int width = Math.min(WorkerScratch.TILE, to - t);
                java.util.Arrays.fill(sum, 0, width, 0f);
                for (int j = 0; j < width; j++) {
                    slope[j] = -theta[t + j] / eps;
                }
                for (int b = 0; b < rows; b++) {
                    long base = (long) b * cols + t;
                    int j = 0;
                    for (; j + L <= width; j += L) {
                        FloatVector hv = load(h, base + j);
                        FloatVector th = FloatVector.fromArray(F, theta, t + j);
                        FloatVector g = load(gF, base + j);
                        store(FloatVector.zero(F).blend(g, hv.compare(VectorOperators.GT, th)), gH, base + j);
                        VectorMask<Float> inWindow = hv.sub(th).div(eps).abs().compare(VectorOperators.LT, 0.5f);
                        FloatVector term = g.mul(FloatVector.fromArray(F, slope, j)).add(l0Term);
                        FloatVector.fromArray(F, sum, j).add(term, inWindow).intoArray(sum, j);
                    }
                    for (; j < width; j++) {
                        float hv = get(h, base + j);
                        float th = theta[t + j];
                        float g = get(gF, base + j);
                        set(gH, base + j, hv > th ? g : 0f);
                        if (Math.abs((hv - th) / eps) < 0.5f) {
                            sum[j] += g * slope[j] + l0Term;
                        }
                    }
                }
                for (int j = 0; j < width; j++) {
                    set(gLogTheta, t + j, theta[t + j] * sum[j]);
                }
            }
        });
    }
}
