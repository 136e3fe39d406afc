package dev.atmsae.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.F;
import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.store;

/**
 * Kernels where every output element depends only on the same element of the inputs (plus per-column constants):
 * any partition of the elements gives the same bits, as long as the vector body and the scalar tail compute the
 * same expression, which each method below keeps.
 */
final class ElementwiseKernels {
    /** Elements per part below which a loop is not worth splitting. */
    private static final int GRAIN = 1 << 15;

    private final WorkerPool pool;

    ElementwiseKernels(WorkerPool pool) {
        this.pool = pool;
    }

    /** Rows per part for row-wise kernels: about {@link #GRAIN} elements, at least one row. */
    private static int rowGrain(int cols) {
        return Math.max(1, GRAIN / Math.max(1, cols));
    }

    void fill(MemorySegment t, int size, float value) {
        if (value == 0f && Float.floatToRawIntBits(value) == 0) {
            t.asSlice(0, (long) size << 2).fill((byte) 0);
            return;
        }
        FloatVector v = FloatVector.broadcast(F, value);
        pool.run(size, GRAIN, (w, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                store(v, t, i);
            }
            for (; i < to; i++) {
                set(t, i, value);
            }
        });
    }

    /** y = fma(alpha, x, y). */
    void axpy(float alpha, MemorySegment x, MemorySegment y, int size) {
        pool.run(size, GRAIN, (w, from, to) -> Vec.axpy(alpha, x, from, y, from, to - from));
    }

    void scale(MemorySegment t, int size, float alpha) {
        pool.run(size, GRAIN, (w, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                store(load(t, i).mul(alpha), t, i);
            }
            for (; i < to; i++) {
                set(t, i, get(t, i) * alpha);
            }
        });
    }

    /** out = a − b. */
    void subtract(MemorySegment a, MemorySegment b, MemorySegment out, int size) {
        pool.run(size, GRAIN, (w, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                store(load(a, i).sub(load(b, i)), out, i);
            }
            for (; i < to; i++) {
                set(out, i, get(a, i) - get(b, i));
            }
        });
    }

    /** f = max(h, 0) with Math.max semantics (the Vector API's MAX is specified to match it). */
    void relu(MemorySegment h, MemorySegment f, int size) {
        pool.run(size, GRAIN, (w, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                store(load(h, i).lanewise(VectorOperators.MAX, 0f), f, i);
            }
            for (; i < to; i++) {
                set(f, i, Math.max(get(h, i), 0f));
            }
        });
    }

    /** out[b, :] = x[b, :] − row, or + row when {@code add}, for each of {@code rows} rows. */
    void broadcastRow(MemorySegment x, MemorySegment row, boolean add, MemorySegment out, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long base = (long) b * cols;
                int j = 0;
                for (; j + L <= cols; j += L) {
                    FloatVector xv = load(x, base + j);
                    store(add ? xv.add(load(row, j)) : xv.sub(load(row, j)), out, base + j);
                }
                for (; j < cols; j++) {
                    float xv = get(x, base + j);
                    set(out, base + j, add ? xv + get(row, j) : xv - get(row, j));
                }
            }
        });
    }

    /** out[b, :] = row for each of {@code rows} rows. */
    void repeatRow(MemorySegment row, MemorySegment out, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                Vec.copy(row, 0, out, (long) b * cols, cols);
            }
        });
    }

    /** t[b, j] = s_j·t[b, j]. */
    void scaleColumns(MemorySegment t, MemorySegment s, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long base = (long) b * cols;
                int j = 0;
                for (; j + L <= cols; j += L) {
                    store(load(t, base + j).mul(load(s, j)), t, base + j);
                }
                for (; j < cols; j++) {
                    set(t, base + j, get(t, base + j) * get(s, j));
                }
            }
        });
    }

    /** f = h where h &gt; θ_j (θ precomputed per column), else 0. */
    void jumpRelu(MemorySegment h, float[] theta, MemorySegment f, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long base = (long) b * cols;
                int j = 0;
                for (; j + L <= cols; j += L) {
                    FloatVector hv = load(h, base + j);
                    VectorMask<Float> keep = hv.compare(VectorOperators.GT, FloatVector.fromArray(F, theta, j));
                    store(FloatVector.zero(F).blend(hv, keep), f, base + j);
                }
                for (; j < cols; j++) {
                    float hv = get(h, base + j);
                    set(f, base + j, hv > theta[j] ? hv : 0f);
                }
            }
        });
    }

    /** gH = f &gt; 0 ? gF + l1Grad_j : 0 (l1Grad null: 0). */
    void reluBackward(MemorySegment f, MemorySegment gF, MemorySegment l1Grad, MemorySegment gH, int rows, int cols) {
        pool.run(rows, rowGrain(cols), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long base = (long) b * cols;
                int j = 0;
                for (; j + L <= cols; j += L) {
                    VectorMask<Float> active = load(f, base + j).compare(VectorOperators.GT, 0f);
                    FloatVector g = load(gF, base + j);
                    if (l1Grad != null) {
                        g = g.add(load(l1Grad, j));
                    }
                    store(FloatVector.zero(F).blend(g, active), gH, base + j);
                }
                for (; j < cols; j++) {
                    float g = get(gF, base + j);
                    if (l1Grad != null) {
                        g = g + get(l1Grad, j);
                    }
                    set(gH, base + j, get(f, base + j) > 0f ? g : 0f);
                }
            }
        });
    }

    /**
     * Adam with bias correction; every element is computed by the same float expression in the vector body and the
     * tail: g = s·grad; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g·g; p −= lr·(m/c1) / (sqrt(v/c2) + eps).
     */
    void adam(MemorySegment param, MemorySegment grad, MemorySegment m, MemorySegment v, int size, float lr,
              float beta1, float beta2, float eps, float c1, float c2, float gradScale) {
        float oneMinusB1 = 1f - beta1;
        float oneMinusB2 = 1f - beta2;
        pool.run(size, GRAIN, (w, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector g = load(grad, i).mul(gradScale);
                FloatVector mv = load(m, i).mul(beta1).add(g.mul(oneMinusB1));
                FloatVector vv = load(v, i).mul(beta2).add(g.mul(g).mul(oneMinusB2));
                store(mv, m, i);
                store(vv, v, i);
                FloatVector step = mv.div(c1).mul(lr).div(vv.div(c2).sqrt().add(eps));
                store(load(param, i).sub(step), param, i);
            }
            for (; i < to; i++) {
                float g = get(grad, i) * gradScale;
                float mv = get(m, i) * beta1 + g * oneMinusB1;
                float vv = get(v, i) * beta2 + g * g * oneMinusB2;
                set(m, i, mv);
                set(v, i, vv);
                float step = mv / c1 * lr / ((float) Math.sqrt(vv / c2) + eps);
                set(param, i, get(param, i) - step);
            }
        });
    }
}
