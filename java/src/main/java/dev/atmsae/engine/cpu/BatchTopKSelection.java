package dev.atmsae.engine.cpu;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.seti;
import static dev.atmsae.engine.cpu.Vec.set;

/**
 * BatchTopK over the flattened ReLU(h) by a two-level radix select on the float bits (positive floats order like
 * their bit patterns): a histogram of the high 16 bits finds the bucket holding the r-th largest positive value
 * (r = min(kTotal, #positive)), a histogram of the low 16 bits inside it gives that value T exactly. Everything
 * above T is kept; of the entries equal to T only the first (lowest flat index) r − #{&gt; T} are, which is the tie
 * rule. Histograms are integer counts merged from per-thread copies (order-free), and parts own whole rows, so the
 * result does not depend on the thread count.
 */
final class BatchTopKSelection {
    private static final int BUCKETS = 1 << 16;

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
        // Level 1: high 16 bits of every positive value.
        histogram(h, rows, n, grain, -1);
        long positives = 0;
        for (int c : merged) {
            positives += c;
        }
        long rank = Math.min(kTotal, positives);
        if (rank == 0) {
            for (int b = 0; b <= rows; b++) {
                seti(rowPtr, b, 0);
            }
            return 0f;
        }
        long above = 0;
        int high = BUCKETS - 1;
        while (above + merged[high] < rank) {
            above += merged[high];
            high--;
        }
        // Level 2: low 16 bits of the positive values in that bucket.
        histogram(h, rows, n, grain, high);
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
                for (int i = 0; i < n; i++) {
                    float v = get(h, base + i);
                    if (v > threshold) {
                        g++;
                    } else if (v == threshold) {
                        e++;
                    }
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
                for (int i = 0; i < n; i++) {
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

    /**
     * Fills {@link #merged} with counts of positive values by their high 16 bits (highBucket &lt; 0) or, for values
     * whose high 16 bits equal highBucket, by their low 16 bits.
     */
    private void histogram(MemorySegment h, int rows, int n, int grain, int highBucket) {
        for (WorkerScratch s : scratch) {
            s.histogram(BUCKETS); // zeroed here: workers the loop does not need still merge as zeros
        }
        pool.run(rows, grain, (w, from, to) -> {
            int[] hist = scratch[w].histogramView();
            for (int b = from; b < to; b++) {
                long base = (long) b * n;
                for (int i = 0; i < n; i++) {
                    int bits = Float.floatToRawIntBits(get(h, base + i));
                    if (bits <= 0) {
                        continue; // negative, +0 (−0 has the sign bit: negative as an int)
                    }
                    if (highBucket < 0) {
                        hist[bits >>> 16]++;
                    } else if (bits >>> 16 == highBucket) {
                        hist[bits & 0xFFFF]++;
                    }
                }
            }
        });
        java.util.Arrays.fill(merged, 0);
        for (WorkerScratch s : scratch) {
            int[] hist = s.histogramView();
            for (int c = 0; c < BUCKETS; c++) {
                merged[c] += hist[c];
            }
        }
    }
}
