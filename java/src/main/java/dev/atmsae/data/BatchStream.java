package dev.atmsae.data;

import java.lang.foreign.MemorySegment;

/**
 * An endless, deterministic stream of activation batches (epochs wrap) — what the trainer consumes.
 * Implementations: {@link ActivationLoader} (shards on disk, read ahead by a background thread), {@link ShardRowStream}
 * (every row of shards in file order, for evaluation) and in-memory sources for tests. The order of tokens is a pure function of (shards, seed, batch size, shuffle window), independent of thread
 * timing, so a run resumed at {@link #batchesDelivered()} sees exactly the batches an uninterrupted run would have.
 */
public interface BatchStream extends AutoCloseable {
    /** Input width d. */
    int dim();

    /** Rows per batch B. */
    int batchSize();

    /**
     * Blocks until the next batch is ready and returns it as B·d float32 values, row-major. The segment stays valid
     * until the next call to {@code next()} or {@code close()}. An exception raised while producing the batch (e.g. a
     * NaN row found in a shard) is rethrown here with its cause.
     */
    MemorySegment next();

    /** Batches handed out so far, counting from the stream's start position (the resume position). */
    long batchesDelivered();

    /** Total seconds the consumer spent blocked inside {@link #next()} waiting for data. */
    double stallSeconds();

    @Override
    void close();
}
