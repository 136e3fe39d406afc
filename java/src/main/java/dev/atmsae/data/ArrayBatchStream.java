package dev.atmsae.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An in-memory {@link BatchStream} over a row-major float[] [rows, dim], synchronous, with exactly the batch order of
 * {@link BatchOrder} (so the same data written to a shard and streamed by {@link ActivationLoader} gives the same
 * batches). Meant for tests and small experiments. The returned segment is off-heap and reused by the next call.
 */
public final class ArrayBatchStream implements BatchStream {
    private final float[] data;
    private final int dim;
    private final int batchSize;
    private final BatchOrder order;
    private final long[] rows;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment batch;
    private long next;

    public ArrayBatchStream(float[] rowMajor, int dim, int batchSize, int shuffleBatches, boolean shuffle, long seed,
                            long startBatch) {
        if (rowMajor.length % dim != 0) {
            throw new IllegalArgumentException(rowMajor.length + " values are not a whole number of rows of " + dim);
        }
        this.data = rowMajor;
        this.dim = dim;
        this.batchSize = batchSize;
        this.order = new BatchOrder(rowMajor.length / dim, batchSize, shuffleBatches, shuffle, seed);
        this.rows = new long[batchSize];
        this.batch = arena.allocate(4L * batchSize * dim, 64);
        this.next = startBatch;
    }

    /** Sequential batches from batch 0. */
    public static ArrayBatchStream sequential(float[] rowMajor, int dim, int batchSize) {
        return new ArrayBatchStream(rowMajor, dim, batchSize, 1, false, 0, 0);
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    public long batchesPerEpoch() {
        return order.batchesPerEpoch();
    }

    @Override
    public MemorySegment next() {
        order.rows(next++, rows);
        for (int i = 0; i < batchSize; i++) {
            MemorySegment.copy(data, (int) (rows[i] * dim), batch, ValueLayout.JAVA_FLOAT, 4L * i * dim, dim);
        }
        return batch;
    }

    @Override
    public long batchesDelivered() {
        return next;
    }

    @Override
    public double stallSeconds() {
        return 0;
    }

    @Override
    public void close() {
        arena.close();
    }
}
