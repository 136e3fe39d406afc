package dev.atmsae.engine.cpu;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.geti;

/**
 * The nonzero entries of sparse codes grouped by latent (a stable counting sort), so that scatter-accumulations
 * into per-latent rows (gWDec, gWEnc, gBEnc) can give each thread a latent range: no races, and every latent's
 * row sums its entries in ascending entry order whatever the thread count.
 */
final class LatentEntryIndex {
    /** Entries of latent i are {@code entries[start[i] .. start[i+1])}, ascending. */
    int[] start = new int[1];
    int[] entries = new int[0];
    /** The batch row of each entry position j (indexed by j, not by sorted position). */
    int[] entryRow = new int[0];
    private int[] cursor = new int[0];

    /** Rebuilds the index for codes with {@code rows} rows over {@code n} latents; validates rowPtr and idx. */
    void build(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, int capacity, int n) {
        if (start.length < n + 1) {
            start = new int[n + 1];
            cursor = new int[n + 1];
        }
        int total = geti(rowPtr, rows);
        if (geti(rowPtr, 0) != 0 || total < 0 || total > capacity) {
            throw new IllegalArgumentException("sparse codes: rowPtr[0] = " + geti(rowPtr, 0) + ", rowPtr[B] = "
                    + total + " outside [0, capacity " + capacity + "]");
        }
        if (entries.length < total) { // sized to the capacity: grown once per code buffer, not per batch
            entries = new int[capacity];
            entryRow = new int[capacity];
        }
        java.util.Arrays.fill(start, 0, n + 1, 0);
        for (int b = 0; b < rows; b++) {
            int from = geti(rowPtr, b);
            int to = geti(rowPtr, b + 1);
            if (to < from || to > total) {
                throw new IllegalArgumentException("sparse codes: rowPtr not ascending at row " + b);
            }
            for (int j = from; j < to; j++) {
                entryRow[j] = b;
                int latent = geti(idx, j);
                if (latent < 0 || latent >= n) {
                    throw new IllegalArgumentException("sparse codes: latent " + latent + " at entry " + j
                            + " outside [0, " + n + ")");
                }
                if (get(val, j) != 0f) {
                    start[latent + 1]++;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            start[i + 1] += start[i];
        }
        System.arraycopy(start, 0, cursor, 0, n);
        for (int j = 0; j < total; j++) {
            if (get(val, j) != 0f) {
                entries[cursor[geti(idx, j)]++] = j;
            }
        }
    }

    /**
     * The first latent of part {@code part} of {@code parts}, cutting [0, n) so that parts hold about equal numbers
     * of entries (each latent stays whole).
     */
    int latentBoundary(int part, int parts, int n) {
        if (part >= parts) {
            return n;
        }
        long target = (long) start[n] * part / parts;
        int lo = 0;
        int hi = n;
        while (lo < hi) { // first latent whose start ≥ target
            int mid = (lo + hi) >>> 1;
            if (start[mid] < target) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
