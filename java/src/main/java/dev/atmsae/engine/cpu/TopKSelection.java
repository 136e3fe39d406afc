package dev.atmsae.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.geti;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.seti;

/**
 * Per-row TopK by a k-entry min-heap whose root is the worst kept entry (smallest value; among equal values the
 * higher latent index). Latents are scanned in ascending order, so a later latent replaces the root only when
 * strictly greater, which is exactly the "ties by lower index" rule; whole vectors of values not above the root
 * are skipped without touching the heap. Each part owns whole rows.
 */
final class TopKSelection {
    private final WorkerPool pool;
    private final WorkerScratch[] scratch;

    TopKSelection(WorkerPool pool, WorkerScratch[] scratch) {
        this.pool = pool;
        this.scratch = scratch;
    }

    /**
     * Writes, for each row, the k selected latents (descending h, ties by lower index) with ReLU'd values at
     * positions b·k .. b·k + k − 1 and rowPtr[b] = b·k. {@code allow} (nullable) is I32 [n], nonzero = allowed, and
     * must allow at least k latents (checked by the caller).
     */
    void topK(MemorySegment h, int rows, int n, int k, MemorySegment allow, MemorySegment rowPtr, MemorySegment idx,
              MemorySegment val) {
        for (int b = 0; b <= rows; b++) {
            seti(rowPtr, b, b * k);
        }
        if (k == 0) {
            return;
        }
        pool.run(rows, 16, (w, from, to) -> {
            float[] hv = scratch[w].heapValues(k);
            int[] hi = scratch[w].heapIndices(k);
            for (int b = from; b < to; b++) {
                long base = (long) b * n;
                if (allow == null) {
                    selectRow(h, base, n, k, hv, hi);
                } else {
                    selectAllowedRow(h, base, n, k, allow, hv, hi);
                }
                long out = (long) b * k;
                // Pop the worst first into the last free slot: descending values, ties by ascending index.
                int size = k;
                for (int pos = k - 1; pos >= 0; pos--) {
                    seti(idx, out + pos, hi[0]);
                    set(val, out + pos, Math.max(hv[0], 0f));
                    size--;
                    hv[0] = hv[size];
                    hi[0] = hi[size];
                    siftDown(hv, hi, size, 0);
                }
            }
        });
    }

    /**
     * Two passes over the (cache-resident) row: a floor t0 = min over k disjoint segments of the segment's maximum
     * (k distinct values are ≥ t0, so nothing below t0 can be in the top k), then the heap only sees values ≥ t0,
     * in ascending latent order, which keeps the tie rule.
     */
    private static void selectRow(MemorySegment h, long base, int n, int k, float[] hv, int[] hi) {
        float floor = segmentMaximaFloor(h, base, n, k);
        int size = 0;
        float root = Float.NEGATIVE_INFINITY;
        int i = 0;
        for (; i + L <= n; i += L) {
            // Only the lanes that pass the current bar are visited; the bar only rises, so no other lane can pass.
            long lanes = load(h, base + i).compare(VectorOperators.GE, size < k ? floor : root).toLong();
            while (lanes != 0) {
                int j = i + Long.numberOfTrailingZeros(lanes);
                lanes &= lanes - 1;
                float x = get(h, base + j);
                if (size < k) {
                    push(hv, hi, size++, x, j); // x ≥ floor: the mask said so
                    root = hv[0];
                } else if (x > root) {
                    hv[0] = x;
                    hi[0] = j;
                    siftDown(hv, hi, k, 0);
                    root = hv[0];
                }
            }
        }
        for (; i < n; i++) {
            float x = get(h, base + i);
            if (size < k) {
                if (x >= floor) {
                    push(hv, hi, size++, x, i);
                    root = hv[0];
                }
            } else if (x > root) {
                hv[0] = x;
                hi[0] = i;
                siftDown(hv, hi, k, 0);
                root = hv[0];
            }
        }
    }

    /** min over s &lt; k of max(h[s·seg .. (s+1)·seg)), seg = ⌊n/k⌋ (max and min are exact in any order). */
    private static float segmentMaximaFloor(MemorySegment h, long base, int n, int k) {
        int seg = n / k;
        float floor = Float.POSITIVE_INFINITY;
        for (int s = 0; s < k; s++) {
            long from = base + (long) s * seg;
            int j = 0;
            float max = Float.NEGATIVE_INFINITY;
            if (seg >= L) {
                FloatVector m = load(h, from);
                for (j = L; j + L <= seg; j += L) {
                    m = m.max(load(h, from + j));
                }
                max = m.reduceLanes(VectorOperators.MAX);
            }
            for (; j < seg; j++) {
                max = Math.max(max, get(h, from + j));
            }
            floor = Math.min(floor, max);
        }
        return floor;
    }

    private static float offer(MemorySegment h, long base, int i, float[] hv, int[] hi, int k, float root) {
        float v = get(h, base + i);
        if (v > root) {
            hv[0] = v;
            hi[0] = i;
            siftDown(hv, hi, k, 0);
            return hv[0];
        }
        return root;
    }

    private static void selectAllowedRow(MemorySegment h, long base, int n, int k, MemorySegment allow, float[] hv,
                                         int[] hi) {
        int size = 0;
        int i = 0;
        for (; i < n && size < k; i++) {
            if (geti(allow, i) != 0) {
                push(hv, hi, size++, get(h, base + i), i);
            }
        }
        float root = hv[0];
        for (; i < n; i++) {
            if (geti(allow, i) != 0) {
                root = offer(h, base, i, hv, hi, k, root);
            }
        }
    }

    /** True when (va, ia) is a worse pick than (vb, ib): smaller, or equal with a higher latent index. */
    private static boolean worse(float va, int ia, float vb, int ib) {
        return va < vb || (va == vb && ia > ib);
    }

    private static void push(float[] hv, int[] hi, int size, float v, int i) {
        int pos = size;
        while (pos > 0) {
            int parent = (pos - 1) >>> 1;
            if (!worse(v, i, hv[parent], hi[parent])) {
                break;
            }
            hv[pos] = hv[parent];
            hi[pos] = hi[parent];
            pos = parent;
        }
        hv[pos] = v;
        hi[pos] = i;
    }

    private static void siftDown(float[] hv, int[] hi, int size, int pos) {
        float v = hv[pos];
        int i = hi[pos];
        while (true) {
            int child = 2 * pos + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && worse(hv[child + 1], hi[child + 1], hv[child], hi[child])) {
                child++;
            }
            if (!worse(hv[child], hi[child], v, i)) {
                break;
            }
            hv[pos] = hv[child];
            hi[pos] = hi[child];
            pos = child;
        }
        hv[pos] = v;
        hi[pos] = i;
    }
}
