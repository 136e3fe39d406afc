package dev.atmsae.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.seti;

/**
 * BatchTopK over the flattened ReLU(h) by a two-level radix select on the float bits (positive floats order like
 * their bit patterns): a histogram of the high 16 bits finds the bucket holding the r-th largest positive value
 * (r = min(kTotal, #positive)), a histogram of the low 16 bits inside it gives that value T exactly. Everything
 * above T is kept; of the entries equal to T only the first (lowest flat index) r − #{&gt; T} are, which is the tie
 * rule.
 *
 * <p>Speed: the histograms only need values that can reach the top r, so a cheap floor is estimated from a sample of
 * rows (every {@link #SAMPLE_STRIDE}th), aiming at about 1.5·r values above it; vector compares then skip every chunk
 * with no value above the floor. If fewer than kTotal values reach the floor the selection simply reruns over all
 * positive values, so the floor only affects speed, never the result.
 *
 * <p>Determinism: histograms are integer counts merged from per-thread copies (order-free), and parts own whole
 * rows, so the result does not depend on the thread count.
 */
final class BatchTopKSelection {
    private static final int BUCKETS = 1 << 16;
    private static final int SAMPLE_STRIDE = 16;
    /** The smallest positive float's bits: a floor that admits every positive value. */
    private static final int ALL_POSITIVE = 1;

    private final WorkerPool pool;
    private final WorkerScratch[] scratch;
    private final int[] merged = new int[BUCKETS];
    private int[] aboveCount = new int[0];
    private int[] equalCount = new int[0];

    BatchTopKSelection(WorkerPool pool, WorkerScratch[] scratch) {
        this.pool = pool;
        this.scratch = scratch;
    }

    /** Selects and writes the codes; returns the smallest kept value or 0 when nothing is positive. */
    float select(MemorySegment h, int rows, int n, int kTotal, MemorySegment rowPtr, MemorySegment idx,
                 MemorySegment val) {
        int grain = Math.max(1, (1 << 14) / Math.max(1, n));
        if (kTotal == 0) {
            return writeNone(rowPtr, rows);
        }
        int floorBits = estimateFloor(h, rows, n, grain, kTotal);
        long counted = highHistogram(h, rows, n, grain, floorBits);
        if (counted < kTotal && floorBits != ALL_POSITIVE) {
            floorBits = ALL_POSITIVE;
            counted = highHistogram(h, rows, n, grain, floorBits);
        }
        long rank = Math.min(kTotal, counted); // counted = #positive whenever it is below kTotal
        if (rank == 0) {
            return writeNone(rowPtr, rows);
        }
        long above = 0;
        int high = BUCKETS - 1;
        while (above + merged[high] < rank) {
            above += merged[high];
            high--;
        }
        lowHistogram(h, rows, n, grain, high);
        int low = BUCKETS - 1;
        while (above + merged[low] < rank) {
            above += merged[low];
            low--;
        }
        float threshold = Float.intBitsToFloat(high << 16 | low);
        long equalToTake = rank - above;

        if (aboveCount.length < rows) {
            aboveCount = new int[rows];
            equalCount = new int[rows];
        }
        int[] gt = aboveCount;
        int[] eq = equalCount;
        pool.run(rows, grain, (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long base = (long) b * n;
                int g = 0;
                int e = 0;
                int i = 0;
                for (; i + L <= n; i += L) {
                    FloatVector v = load(h, base + i);
                    g += v.compare(VectorOperators.GT, threshold).trueCount();
                    e += v.compare(VectorOperators.EQ, threshold).trueCount();
                }
                for (; i < n; i++) {
                    float v = get(h, base + i);
                    g += v > threshold ? 1 : 0;
                    e += v == threshold ? 1 : 0;
                }
                gt[b] = g;
                eq[b] = e;
            }
        });
        // Rows in order hand out the tied entries first come first served (lowest flat index wins); gt[] becomes
        // each row's first output position.
        int[] rowStart = gt;
        int pos = 0;
        for (int b = 0; b < rows; b++) {
            seti(rowPtr, b, pos);
            int take = (int) Math.min(eq[b], equalToTake);
            equalToTake -= take;
            eq[b] = take;
            int count = gt[b] + take;
            rowStart[b] = pos;
            pos += count;
        }
        seti(rowPtr, rows, pos);
        pool.run(rows, grain, (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long base = (long) b * n;
                int out = rowStart[b];
                int tiesLeft = eq[b];
                int i = 0;
                for (; i + L <= n; i += L) {
                    if (load(h, base + i).compare(VectorOperators.GE, threshold).anyTrue()) {
                        for (int j = i; j < i + L; j++) {
                            float v = get(h, base + j);
                            if (v > threshold || (v == threshold && tiesLeft-- > 0)) {
                                seti(idx, out, j);
                                set(val, out, v);
                                out++;
                            }
                        }
                    }
                }
                for (; i < n; i++) {
                    float v = get(h, base + i);
                    if (v > threshold || (v == threshold && tiesLeft-- > 0)) {
                        seti(idx, out, i);
                        set(val, out, v);
                        out++;
                    }
                }
            }
        });
        return threshold;
    }

    private static float writeNone(MemorySegment rowPtr, int rows) {
        for (int b = 0; b <= rows; b++) {
            seti(rowPtr, b, 0);
        }
        return 0f;
    }

    /**
     * A floor (as float bits, a bucket's lower edge) with about 1.5·kTotal values above it, from a histogram of every
     * {@link #SAMPLE_STRIDE}th row; {@link #ALL_POSITIVE} when the sample is too small to tell.
     */
    private int estimateFloor(MemorySegment h, int rows, int n, int grain, int kTotal) {
        int sampled = (rows + SAMPLE_STRIDE - 1) / SAMPLE_STRIDE;
        if (rows < 16 * SAMPLE_STRIDE) {
            return ALL_POSITIVE; // small batches: a sample would be noisy and the full pass is cheap anyway
        }
        clearHistograms();
        pool.run(sampled, Math.max(1, grain / SAMPLE_STRIDE), (w, from, to) -> {
            int[] hist = scratch[w].histogramView();
            for (int s = from; s < to; s++) {
                long base = (long) s * SAMPLE_STRIDE * n;
                for (int i = 0; i < n; i++) {
                    int bits = Float.floatToRawIntBits(get(h, base + i));
                    if (bits > 0) {
                        hist[bits >>> 16]++;
                    }
                }
            }
        });
        mergeHistograms();
        long target = (long) Math.ceil(1.5 * kTotal * sampled / rows) + 8;
        long above = 0;
        for (int bucket = BUCKETS - 1; bucket > 0; bucket--) {
            above += merged[bucket];
            if (above >= target) {
                return bucket << 16;
            }
        }
        return ALL_POSITIVE;
    }

    /**
     * {@link #merged} = counts of the values with bits ≥ floorBits (all positive) by their high 16 bits; returns
     * their number.
     */
    private long highHistogram(MemorySegment h, int rows, int n, int grain, int floorBits) {
        float floor = Float.intBitsToFloat(floorBits);
        clearHistograms();
        pool.run(rows, grain, (w, from, to) -> {
            int[] hist = scratch[w].histogramView();
            for (int b = from; b < to; b++) {
                long base = (long) b * n;
                int i = 0;
                for (; i + L <= n; i += L) {
                    if (load(h, base + i).compare(VectorOperators.GE, floor).anyTrue()) {
                        for (int j = i; j < i + L; j++) {
                            int bits = Float.floatToRawIntBits(get(h, base + j));
                            if (bits >= floorBits) {
                                hist[bits >>> 16]++;
                            }
                        }
                    }
                }
                for (; i < n; i++) {
                    int bits = Float.floatToRawIntBits(get(h, base + i));
                    if (bits >= floorBits) {
                        hist[bits >>> 16]++;
                    }
                }
            }
        });
        mergeHistograms();
        long total = 0;
        for (int c : merged) {
            total += c;
        }
        return total;
    }

    /** {@link #merged} = counts of the values whose high 16 bits equal {@code high}, by their low 16 bits. */
    private void lowHistogram(MemorySegment h, int rows, int n, int grain, int high) {
        float lo = Float.intBitsToFloat(high << 16);
        float hi = Float.intBitsToFloat((high + 1) << 16);
        clearHistograms();
        pool.run(rows, grain, (w, from, to) -> {
            int[] hist = scratch[w].histogramView();
            for (int b = from; b < to; b++) {
                long base = (long) b * n;
                int i = 0;
                for (; i + L <= n; i += L) {
                    FloatVector v = load(h, base + i);
                    VectorMask<Float> inBucket = v.compare(VectorOperators.GE, lo)
                            .and(v.compare(VectorOperators.LT, hi));
                    if (inBucket.anyTrue()) {
                        for (int j = i; j < i + L; j++) {
                            countLow(hist, get(h, base + j), high);
                        }
                    }
                }
                for (; i < n; i++) {
                    countLow(hist, get(h, base + i), high);
                }
            }
        });
        mergeHistograms();
    }

    private static void countLow(int[] hist, float v, int high) {
        int bits = Float.floatToRawIntBits(v);
        if (bits > 0 && bits >>> 16 == high) {
            hist[bits & 0xFFFF]++;
        }
    }

    private void clearHistograms() {
        for (WorkerScratch s : scratch) {
            s.histogram(BUCKETS); // workers the loop does not need still merge as zeros
        }
    }

    private void mergeHistograms() {
        java.util.Arrays.fill(merged, 0);
        for (WorkerScratch s : scratch) {
            int[] hist = s.histogramView();
            for (int c = 0; c < BUCKETS; c++) {
                merged[c] += hist[c];
            }
        }
    }
}
