package dev.atmsae.engine.cpu;

/**
 * Per-thread scratch of one engine, grown on demand and then reused, so kernels allocate nothing once sizes settle.
 * Worker w of the pool only ever touches {@code scratch[w]}.
 */
final class WorkerScratch {
    /** Width of a column tile in the column-reduction kernels: three accumulators stay in L1. */
    static final int TILE = 512;

    final float[] acc0 = new float[TILE];
    final float[] acc1 = new float[TILE];
    final float[] acc2 = new float[TILE];
    final int[] philox = new int[4];
    private float[] heapValues = new float[0];
    private int[] heapIndices = new int[0];
    private int[] histogram = new int[0];

    float[] heapValues(int k) {
        if (heapValues.length < k) {
            heapValues = new float[k];
        }
        return heapValues;
    }

    int[] heapIndices(int k) {
        if (heapIndices.length < k) {
            heapIndices = new int[k];
        }
        return heapIndices;
    }

    /** A zeroed histogram of {@code size} counters. */
    int[] histogram(int size) {
        if (histogram.length < size) {
            histogram = new int[size];
        } else {
            java.util.Arrays.fill(histogram, 0, size, 0);
        }
        return histogram;
    }

    /** The histogram as last sized by {@link #histogram(int)}, not cleared. */
    int[] histogramView() {
        return histogram;
    }

    static WorkerScratch[] forThreads(int threads) {
        WorkerScratch[] all = new WorkerScratch[threads];
        for (int i = 0; i < threads; i++) {
            all[i] = new WorkerScratch();
        }
        return all;
    }
}
