package dev.atmsae.data;

import dev.atmsae.core.Philox;

/**
 * Which rows make up batch g — a pure function of (rows, batch size B, shuffle window S, shuffle flag, seed), so the
 * order never depends on thread timing and any batch can be located in O(1) for resuming.
 *
 * <p>The rule (rows are logical row indices 0..N−1 of the data set; see {@link ActivationLoader} for how they map to
 * files):
 * <ol>
 *   <li>An epoch has C = ⌊N/B⌋ batches; batch g belongs to epoch e = g div C, position j = g mod C. The N mod B rows
 *       past the last full chunk (the ragged tail, &lt; B rows) are not used — they would otherwise make one batch
 *       short or straddle epochs.</li>
 *   <li>Sequential (shuffle off): batch j = rows [jB, jB+B).</li>
 *   <li>Shuffled: chunk c = rows [cB, cB+B) (contiguous in the global index space; it may straddle two shard files,
 *       which only costs a split copy). The C chunks are permuted per epoch (Fisher–Yates, draws keyed by (seed,
 *       epoch)). Consecutive runs of S chunks of that order form windows: window w = order[wS .. min(wS+S, C)), its
 *       W ≤ S·B rows concatenated in that order and then permuted as a whole (Fisher–Yates, draws keyed by
 *       (seed, epoch, w)). Batch j is rows [(j mod S)·B, +B) of window j div S. The last window of an epoch may hold
 *       fewer than S chunks; that is the only irregularity.</li>
 *   <li>Draw i of a permutation is 64 bits from Philox-4x32-10 with key (seed low, seed high ^ (0x5EED0000 |
 *       STREAM_SHUFFLE)) and counter (i, e, w+1 — or 0 for the chunk permutation —, 0xFFFFFFFE); the position is
 *       ⌊draw·(i+1)/2⁶⁴⌋ for i = n−1 down to 1, swapping element i with it.</li>
 * </ol>
 * The object caches the current epoch's chunk order and the current window, so sequential calls cost O(B) each and a
 * jump to an arbitrary batch costs one chunk permutation and one window permutation.
 */
public final class BatchOrder {
    private final long rows;
    private final int batchSize;
    private final int shuffleBatches;
    private final boolean shuffle;
    private final long seed;
    private final long batchesPerEpoch;
    private final int[] word = new int[4];

    private long cachedEpoch = -1;
    private int[] chunkOrder;
    private long cachedWindowEpoch = -1;
    private long cachedWindow = -1;
    private long[] windowRows;
    private int windowLength;

    public BatchOrder(long rows, int batchSize, int shuffleBatches, boolean shuffle, long seed) {
        if (batchSize < 1 || shuffleBatches < 1) {
            throw new IllegalArgumentException("batch size and shuffle window must be positive");
        }
        this.rows = rows;
        this.batchSize = batchSize;
        this.shuffleBatches = shuffleBatches;
        this.shuffle = shuffle;
        this.seed = seed;
        this.batchesPerEpoch = rows / batchSize;
        if (batchesPerEpoch < 1) {
            throw new IllegalArgumentException("the data holds " + rows + " rows, fewer than one batch of " + batchSize);
        }
        if (shuffle && batchesPerEpoch > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many chunks per epoch to shuffle: " + batchesPerEpoch);
        }
        if (shuffle && Math.min(shuffleBatches, batchesPerEpoch) * batchSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shuffle window of " + shuffleBatches + " batches of " + batchSize
                    + " rows is too large");
        }
    }

    /** Batches per epoch C = ⌊rows/B⌋. */
    public long batchesPerEpoch() {
        return batchesPerEpoch;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Rows of one epoch that are never used (the ragged tail, rows mod B). */
    public long unusedRowsPerEpoch() {
        return rows - batchesPerEpoch * batchSize;
    }

    /** Fills {@code out[0..B)} with the logical row indices of batch {@code batch} (≥ 0), in batch order. */
    public void rows(long batch, long[] out) {
        long epoch = batch / batchesPerEpoch;
        long j = batch % batchesPerEpoch;
        if (!shuffle) {
            long first = j * batchSize;
            for (int i = 0; i < batchSize; i++) {
                out[i] = first + i;
            }
            return;
        }
        long window = j / shuffleBatches;
        if (epoch != cachedWindowEpoch || window != cachedWindow) {
            buildWindow(epoch, window);
        }
        System.arraycopy(windowRows, (int) (j % shuffleBatches) * batchSize, out, 0, batchSize);
    }

    private void buildWindow(long epoch, long window) {
        if (epoch != cachedEpoch) {
            int c = (int) batchesPerEpoch;
            int[] order = chunkOrder != null && chunkOrder.length == c ? chunkOrder : new int[c];
            for (int i = 0; i < c; i++) {
                order[i] = i;
            }
            for (int i = c - 1; i > 0; i--) {
                int k = (int) Math.unsignedMultiplyHigh(draw(i, epoch, 0), i + 1L);
                int t = order[i];
                order[i] = order[k];
                order[k] = t;
            }
            chunkOrder = order;
            cachedEpoch = epoch;
        }
        int firstChunk = (int) (window * shuffleBatches);
        int chunks = (int) Math.min(shuffleBatches, batchesPerEpoch - firstChunk);
        int n = chunks * batchSize;
        if (windowRows == null) {
            windowRows = new long[(int) Math.min(shuffleBatches, batchesPerEpoch) * batchSize];
        }
        for (int q = 0; q < chunks; q++) {
            long start = (long) chunkOrder[firstChunk + q] * batchSize;
            for (int i = 0; i < batchSize; i++) {
                windowRows[q * batchSize + i] = start + i;
            }
        }
        for (int i = n - 1; i > 0; i--) {
            int k = (int) Math.unsignedMultiplyHigh(draw(i, epoch, window + 1), i + 1L);
            long t = windowRows[i];
            windowRows[i] = windowRows[k];
            windowRows[k] = t;
        }
        windowLength = n;
        cachedWindowEpoch = epoch;
        cachedWindow = window;
    }

    private long draw(long i, long epoch, long stream) {
        Philox.block((int) seed, (int) (seed >>> 32) ^ (0x5EED0000 | Philox.STREAM_SHUFFLE), (int) i, (int) epoch,
                (int) stream, 0xFFFFFFFE, word);
        return (word[0] & 0xFFFFFFFFL) << 32 | (word[1] & 0xFFFFFFFFL);
    }

    /** Rows in the currently cached window (for tests). */
    int windowLength() {
        return windowLength;
    }
}
