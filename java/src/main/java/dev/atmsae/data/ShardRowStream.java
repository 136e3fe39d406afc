package dev.atmsae.data;

import dev.atmsae.util.UserError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Every row of a {@link ShardSet} in file order, B rows per batch, wrapping round to row 0 after the last: batch g
 * holds rows gB … gB+B−1 modulo N. So the first ⌈N/B⌉ batches hold each row exactly once (the last of them ends with
 * the ragged tail, then rows from the start), which is what an evaluation "over every row" needs —
 * {@link ActivationLoader} works in whole chunks ({@link BatchOrder}) and never delivers the last N mod B rows.
 * Synchronous (one copy per batch from the memory-mapped shards into one off-heap buffer, negligible beside an SAE
 * forward pass); a row holding NaN/Inf is a {@link UserError} naming the shard file and its row.
 */
public final class ShardRowStream implements BatchStream {
    private final ShardSet shards;
    private final int batchSize;
    private final int dim;
    private final long rows;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment batch;
    private long delivered;

    private ShardRowStream(ShardSet shards, int batchSize) {
        this.shards = shards;
        this.batchSize = batchSize;
        this.dim = shards.dim();
        this.rows = shards.rows();
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (rows < batchSize) {
            throw UserError.inFile(shards.root(), "holds " + rows + " rows, fewer than one batch of " + batchSize);
        }
        this.batch = arena.allocate(4L * batchSize * dim, 64);
    }

    /** Opens the shards at {@code path} (a file or a directory); {@link #close()} closes them. */
    public static ShardRowStream open(Path path, int batchSize) {
        ShardSet set = ShardSet.open(path);
        try {
            return new ShardRowStream(set, batchSize);
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
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
        long row = Math.floorMod(delivered * batchSize, rows);
        long rowBytes = 4L * dim;
        int filled = 0;
        while (filled < batchSize) {
            int run = (int) Math.min(batchSize - filled, rows - row);
            shards.copyRows(row, run, batch, filled * rowBytes);
            if (!Finite.allFiniteF32(batch, filled * rowBytes, (long) run * dim)) {
                for (int q = 0; q < run; q++) {
                    if (!Finite.allFiniteF32(batch, (filled + q) * rowBytes, dim)) {
                        throw shards.nonFiniteError(row + q);
                    }
                }
            }
            filled += run;
            row = 0; // wrapped round
        }
        delivered++;
        return batch;
    }

    @Override
    public long batchesDelivered() {
        return delivered;
    }

    @Override
    public double stallSeconds() {
        return 0; // the copy runs on the caller's thread: there is nothing to wait for
    }

    @Override
    public void close() {
        arena.close();
        shards.close();
    }
}
