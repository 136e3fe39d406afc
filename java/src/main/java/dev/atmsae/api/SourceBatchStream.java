package dev.atmsae.api;

import dev.atmsae.data.BatchStream;
import dev.atmsae.util.UserError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** The trainer's {@link BatchStream} over a caller's {@link ActivationSource}: synchronous, one off-heap batch. */
final class SourceBatchStream implements BatchStream {
    private final ActivationSource source;
    private final int dim;
    private final int batchSize;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment batch;
    private long next;
    private double stallSeconds;

    SourceBatchStream(ActivationSource source, int batchSize, long startBatch) {
        this.source = source;
        this.dim = source.dim();
        if (dim < 1) {
            throw new UserError("activation source: dim() is " + dim + ", must be at least 1");
        }
        this.batchSize = batchSize;
        this.batch = arena.allocate((long) Float.BYTES * batchSize * dim, 64);
        this.next = startBatch;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public MemorySegment next() {
        FloatBuffer view = batch.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
        long t0 = System.nanoTime();
        source.fill(next, batchSize, view);
        stallSeconds += (System.nanoTime() - t0) * 1e-9;
        if (view.hasRemaining()) {
            throw new UserError("activation source: batch " + next + " filled " + view.position() + " of "
                    + view.capacity() + " values");
        }
        for (long i = 0, n = (long) batchSize * dim; i < n; i++) {
            float v = batch.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(v)) {
                throw new UserError("activation source: batch " + next + " row " + i / dim + " holds " + v);
            }
        }
        next++;
        return batch;
    }

    @Override
    public long batchesDelivered() {
        return next;
    }

    @Override
    public double stallSeconds() {
        return stallSeconds;
    }

    @Override
    public void close() {
        arena.close();
    }
}
