package dev.atmsae.data;

import dev.atmsae.util.UserError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Streams activation batches from memory-mapped shards (a {@link ShardSet}) with a background reader thread.
 *
 * <h2>Hand-off</h2>
 * A fixed pool of {@code slots} off-heap batch buffers (B·d float32 each, page-aligned). The reader takes a free
 * slot index from the <em>free</em> queue, fills the slot, and publishes (slot, batch index) on the <em>filled</em>
 * queue; {@link #next()} returns a slice of that slot in place (zero copy) and hands it back to the free queue on the
 * following call. When every slot is full the reader blocks (back-pressure); when none is ready the consumer blocks
 * and that time is counted as stall. The queues are the JDK's {@link ArrayBlockingQueue}s, not Agrona ring buffers:
 * they carry a few messages per multi-millisecond batch, and Agrona 2.x's buffers need
 * {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}, a flag a library user should not have to add
 * (docs/decisions.md, "The library without --add-exports").
 *
 * <h2>Order</h2>
 * Exactly the rule of {@link BatchOrder}, applied to <em>logical</em> rows: the rows of all shards in name order,
 * minus — only with {@code skipNonFinite} — the rows holding NaN/Inf, which are found by one full scan at open so the
 * order is still a pure function of the data. Batch g of a loader opened at {@code startBatch} s is the (g)-th batch
 * of the same loader opened at 0, for every g ≥ s, whatever the thread timing.
 *
 * <h2>Errors</h2>
 * Without {@code skipNonFinite}, every delivered batch is checked after conversion; a NaN/Inf row stops the reader and
 * {@link #next()} throws a {@link UserError} naming the shard file and its local row. Any exception in the reader is
 * rethrown from {@code next()} with the original as its cause (a UserError stays a UserError).
 */
public final class ActivationLoader implements BatchStream {
    /**
     * Loader settings.
     *
     * @param batchSize      rows per batch B
     * @param shuffleBatches shuffle window S in batches (default 64); ignored when {@code shuffle} is false
     * @param shuffle        false gives plain sequential order
     * @param seed           shuffle seed
     * @param startBatch     global index of the first batch to deliver (resume position)
     * @param skipNonFinite  drop (and count) rows holding NaN/Inf instead of failing
     * @param slots          off-heap batch buffers (default 4, at least 2)
     * @param readers        threads filling one batch together (default 1); rows are split into fixed contiguous
     *                       parts, so the result does not depend on this number
     */
    public record Options(int batchSize, int shuffleBatches, boolean shuffle, long seed, long startBatch,
                          boolean skipNonFinite, int slots, int readers) {
        public Options {
            if (batchSize < 1 || shuffleBatches < 1 || slots < 2 || startBatch < 0 || readers < 1) {
                throw new IllegalArgumentException("invalid loader options " + batchSize + "/" + shuffleBatches + "/"
                        + slots + "/" + startBatch + "/" + readers);
            }
        }

        /** Shuffled, window 64, seed 0, from batch 0, NaN fails, 4 slots. */
        public static Options defaults(int batchSize) {
            return new Options(batchSize, 64, true, 0L, 0L, false, 4, 1);
        }

        public Options withShuffle(boolean on) {
            return new Options(batchSize, shuffleBatches, on, seed, startBatch, skipNonFinite, slots, readers);
        }

        public Options withSeed(long s) {
            return new Options(batchSize, shuffleBatches, shuffle, s, startBatch, skipNonFinite, slots, readers);
        }

        public Options withStartBatch(long b) {
            return new Options(batchSize, shuffleBatches, shuffle, seed, b, skipNonFinite, slots, readers);
        }

        public Options withShuffleBatches(int s) {
            return new Options(batchSize, s, shuffle, seed, startBatch, skipNonFinite, slots, readers);
        }

        public Options withSkipNonFinite(boolean on) {
            return new Options(batchSize, shuffleBatches, shuffle, seed, startBatch, on, slots, readers);
        }

        public Options withReaders(int n) {
            return new Options(batchSize, shuffleBatches, shuffle, seed, startBatch, skipNonFinite, slots, n);
        }

        public Options withSlots(int n) {
            return new Options(batchSize, shuffleBatches, shuffle, seed, startBatch, skipNonFinite, n, readers);
        }
    }

    /** A message on the filled queue: slot {@code slot} holds batch {@code batch}; slot -1 means the reader failed. */
    private record Filled(int slot, long batch) {
        static final Filled FAILED = new Filled(-1, -1);
    }

    private final ShardSet shards;
    private final boolean ownsShards;
    private final Options options;
    private final int dim;
    private final long batchBytes;
    private final BatchOrder order;
    private final long[] badRows;     // sorted global rows holding NaN/Inf (only with skipNonFinite), else empty
    private final long[] badShifted;  // badRows[k] - k: logical i maps to physical i + #{k : badShifted[k] <= i}

    private final Arena slotArena = Arena.ofShared();
    private final MemorySegment[] slots;
    private final MemorySegment slotRegion;
    private final BlockingQueue<Integer> free;
    private final BlockingQueue<Filled> filled;
    private final Thread reader;
    private final ExecutorService helpers; // null with one reader
    private volatile boolean closed;
    private volatile Throwable failure;

    // consumer side
    private int heldSlot = -1;
    private long delivered;
    private long stallNanos;

    // reader-side counters, read by benchmarks from any thread
    private final AtomicLong producedBytes = new AtomicLong();
    private final AtomicLong producingNanos = new AtomicLong();

    private ActivationLoader(ShardSet shards, boolean ownsShards, Options options) {
        this.shards = shards;
        this.ownsShards = ownsShards;
        this.options = options;
        this.dim = shards.dim();
        this.batchBytes = 4L * options.batchSize() * dim;
        this.badRows = options.skipNonFinite() ? shards.nonFiniteRows() : new long[0];
        this.badShifted = new long[badRows.length];
        for (int k = 0; k < badRows.length; k++) {
            badShifted[k] = badRows[k] - k;
        }
        long logicalRows = shards.rows() - badRows.length;
        if (logicalRows < options.batchSize()) {
            throw UserError.inFile(shards.root(), "holds " + logicalRows + " usable rows, fewer than one batch of "
                    + options.batchSize());
        }
        this.order = new BatchOrder(logicalRows, options.batchSize(), options.shuffleBatches(), options.shuffle(),
                options.seed());
        this.slots = new MemorySegment[options.slots()];
        this.slotRegion = slotArena.allocate(batchBytes * options.slots(), 4096);
        for (int i = 0; i < slots.length; i++) {
            slots[i] = slotRegion.asSlice(i * batchBytes, batchBytes);
        }
        this.free = new ArrayBlockingQueue<>(slots.length);
        this.filled = new ArrayBlockingQueue<>(slots.length + 1); // every slot filled, plus the failure message
        for (int i = 0; i < slots.length; i++) {
            returnSlot(i);
        }
        this.helpers = options.readers() == 1 ? null : Executors.newFixedThreadPool(options.readers() - 1,
                Thread.ofPlatform().daemon().name("atmsae-loader-helper-", 1).factory());
        this.reader = Thread.ofPlatform().daemon().name("atmsae-loader").unstarted(this::readLoop);
        this.reader.start();
    }

    /** Opens the shards at {@code path} (file or directory) and starts reading; close() also closes the shards. */
    public static ActivationLoader open(Path path, Options options) {
        ShardSet set = ShardSet.open(path);
        try {
            return new ActivationLoader(set, true, options);
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /** Streams from an already open shard set, which the caller keeps and closes. */
    public static ActivationLoader open(ShardSet set, Options options) {
        return new ActivationLoader(set, false, options);
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public int batchSize() {
        return options.batchSize();
    }

    /** Batches per epoch (⌊usable rows / B⌋). */
    public long batchesPerEpoch() {
        return order.batchesPerEpoch();
    }

    /** Rows dropped because they hold NaN/Inf (only with skipNonFinite; 0 otherwise). */
    public long skippedRows() {
        return badRows.length;
    }

    public ShardSet shards() {
        return shards;
    }

    /**
     * The page-aligned off-heap region holding every batch slot (each batch {@link #next()} returns lies inside it).
     * A GPU engine may pin it once (cudaHostRegister) so host→device copies of batches run at full speed; unpin
     * before {@link #close()}, which frees it.
     */
    public MemorySegment slotRegion() {
        return slotRegion;
    }

    @Override
    public MemorySegment next() {
        if (closed) {
            throw new IllegalStateException("loader is closed");
        }
        if (heldSlot >= 0) {
            returnSlot(heldSlot);
            heldSlot = -1;
        }
        Filled batch = filled.poll();
        if (batch == null) {
            long waitStart = System.nanoTime();
            batch = takeFilled();
            stallNanos += System.nanoTime() - waitStart;
        }
        if (batch == Filled.FAILED) {
            filled.offer(Filled.FAILED); // a later next() fails the same way
            throw rethrow(failure);
        }
        long expect = options.startBatch() + delivered;
        if (batch.batch() != expect) {
            throw new IllegalStateException("loader delivered batch " + batch.batch() + ", expected " + expect);
        }
        heldSlot = batch.slot();
        delivered++;
        return slots[heldSlot];
    }

    private Filled takeFilled() {
        try {
            return filled.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the next activation batch", e);
        }
    }

    private RuntimeException rethrow(Throwable t) {
        if (t instanceof UserError u) {
            return new UserError(u.getMessage(), u);
        }
        return new IllegalStateException("activation reader failed: " + t, t);
    }

    private void returnSlot(int slot) {
        if (!free.offer(slot)) {
            throw new IllegalStateException("free-slot queue is full");
        }
    }

    /** Global index of the next batch {@link #next()} returns (start position + batches delivered). */
    @Override
    public long batchesDelivered() {
        return options.startBatch() + delivered;
    }

    @Override
    public double stallSeconds() {
        return stallNanos * 1e-9;
    }

    /** Bytes of float32 batch data the reader has produced so far. */
    public long producedBytes() {
        return producedBytes.get();
    }

    /** Nanoseconds the reader spent filling slots (waits for free slots excluded). */
    public long producingNanos() {
        return producingNanos.get();
    }

    /** The reader's own rate: GB (1e9 bytes) produced per second of time spent filling slots (waits excluded). */
    public double readGigabytesPerSecond() {
        long ns = producingNanos.get();
        return ns == 0 ? 0 : producedBytes.get() / (double) ns;
    }

    // ---------------------------------------------------------------- reader thread

    private void readLoop() {
        long[] rows = new long[options.batchSize()];
        try {
            for (long g = options.startBatch(); !closed; g++) {
                int slot = free.take(); // close() interrupts this wait
                long t0 = System.nanoTime();
                fill(g, rows, slots[slot]);
                producingNanos.addAndGet(System.nanoTime() - t0);
                producedBytes.addAndGet(batchBytes);
                filled.add(new Filled(slot, g)); // never full: it has room for every slot
            }
        } catch (InterruptedException e) {
            if (!closed) {
                failure = e;
                filled.offer(Filled.FAILED);
            }
        } catch (Throwable t) {
            failure = t;
            filled.offer(Filled.FAILED);
        }
    }

    /**
     * Copies batch g into {@code dst}. With several readers the batch's rows are split into equal contiguous parts
     * filled in parallel; a NaN/Inf row is reported by its first position in batch order either way.
     */
    private void fill(long g, long[] rows, MemorySegment dst) throws Exception {
        order.rows(g, rows);
        if (badRows.length > 0) {
            for (int i = 0; i < rows.length; i++) {
                rows[i] = physical(rows[i]);
            }
        }
        int bad;
        if (helpers == null) {
            bad = fillPart(rows, dst, 0, rows.length);
        } else {
            int parts = options.readers();
            List<Future<Integer>> futures = new ArrayList<>(parts - 1);
            for (int p = 1; p < parts; p++) {
                int from = (int) ((long) rows.length * p / parts);
                int to = (int) ((long) rows.length * (p + 1) / parts);
                futures.add(helpers.submit(() -> fillPart(rows, dst, from, to)));
            }
            bad = fillPart(rows, dst, 0, rows.length / parts);
            for (Future<Integer> f : futures) {
                int b;
                try {
                    b = f.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception c ? c : e;
                }
                bad = bad < 0 ? b : b < 0 ? bad : Math.min(bad, b);
            }
        }
        if (bad >= 0) {
            throw shards.nonFiniteError(rows[bad]);
        }
    }

    /**
     * Fills batch positions [from, to): coalesces runs of consecutive physical rows into bulk copies and (unless
     * skipping) checks them; returns the first position holding NaN/Inf, or -1.
     */
    private int fillPart(long[] rows, MemorySegment dst, int from, int to) {
        long rowBytes = 4L * dim;
        // Runs are capped at ~256 KB so the NaN check re-reads what was just copied from L2, not from memory.
        int maxRun = (int) Math.max(1, (256 << 10) / rowBytes);
        int i = from;
        while (i < to) {
            int run = 1;
            while (run < maxRun && i + run < to && rows[i + run] == rows[i] + run) {
                run++;
            }
            long dstOff = i * rowBytes;
            shards.copyRows(rows[i], run, dst, dstOff);
            if (!options.skipNonFinite() && !Finite.allFiniteF32(dst, dstOff, (long) run * dim)) {
                for (int q = 0; q < run; q++) {
                    if (!Finite.allFiniteF32(dst, dstOff + q * rowBytes, dim)) {
                        return i + q;
                    }
                }
            }
            i += run;
        }
        return -1;
    }

    private long physical(long logical) {
        int lo = 0;
        int hi = badShifted.length; // count of k with badShifted[k] <= logical (badShifted is non-decreasing)
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (badShifted[mid] <= logical) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return logical + lo;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        reader.interrupt();
        boolean interrupted = false;
        while (true) {
            try {
                reader.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (helpers != null) {
            helpers.shutdownNow();
            try {
                helpers.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        slotArena.close();
        if (ownsShards) {
            shards.close();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ActivationLoader" + Arrays.asList(shards.rows(), dim, options);
    }
}
