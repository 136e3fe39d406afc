package dev.atmsae.engine.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed pool that runs one range loop at a time: [0, n) is cut into at most {@code threads} contiguous parts,
 * part 0 runs on the calling thread and the others on parked daemon workers. Kernels give each part a disjoint set of
 * output elements and never split one floating-point reduction across parts, so results do not depend on how many
 * parts there are. Not reentrant: one caller at a time (the engine is single-caller by contract).
 */
final class WorkerPool implements AutoCloseable {

    /** The body of a range loop; {@code worker} (0 ≤ worker &lt; threads) selects the caller's per-thread scratch. */
    @FunctionalInterface
    interface RangeBody {
        void run(int worker, int from, int to);
    }

    /** One dispatched loop, published to the workers through a single volatile write. */
    private static final class Job {
        final RangeBody body;
        final int n;
        final int parts;
        final Thread caller;
        final AtomicInteger pending;
        volatile Throwable failure;

        Job(RangeBody body, int n, int parts, Thread caller) {
            this.body = body;
            this.n = n;
            this.parts = parts;
            this.caller = caller;
            this.pending = new AtomicInteger(parts - 1);
        }

        int from(int part) {
            return (int) ((long) n * part / parts);
        }
    }

    private final int threads;
    /** Tests set this so that even tiny loops are split, exercising thread-count independence on small data. */
    private final boolean splitSmallLoops;
    private final Thread[] workers;
    private volatile Job job;
    private volatile boolean closed;

    WorkerPool(int threads, boolean splitSmallLoops) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be ≥ 1, got " + threads);
        }
        this.threads = threads;
        this.splitSmallLoops = splitSmallLoops;
        this.workers = new Thread[threads - 1];
        for (int w = 1; w < threads; w++) {
            final int index = w;
            Thread t = new Thread(() -> workerLoop(index), "atmsae-cpu-" + w);
            t.setDaemon(true);
            workers[w - 1] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    /** How many parts {@link #run} cuts a loop of n elements with this grain into. */
    int parts(int n, int grain) {
        if (n <= 0) {
            return 1;
        }
        return splitSmallLoops ? Math.min(threads, n)
                : (int) Math.min(threads, Math.max(1L, n / (long) Math.max(1, grain)));
    }

    /**
     * Runs {@code body} over [0, n) in at most {@code threads} parts of at least {@code grain} elements each
     * (fewer parts for small n, so that tiny loops do not pay for waking threads).
     */
    void run(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int parts = parts(n, grain);
        if (parts == 1) {
            body.run(0, 0, n);
            return;
        }
        Job j = new Job(body, n, parts, Thread.currentThread());
        job = j;
        for (int w = 1; w < parts; w++) {
            LockSupport.unpark(workers[w - 1]);
        }
        Throwable mine = null;
        try {
            body.run(0, 0, j.from(1));
        } catch (Throwable t) {
            mine = t;
        }
        while (j.pending.get() != 0) {
            LockSupport.park(this);
        }
        Throwable failure = mine != null ? mine : j.failure;
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    private void workerLoop(int index) {
        Job last = null;
        while (!closed) {
            Job j = job;
            if (j == last) {
                LockSupport.park(this);
                continue;
            }
            last = j;
            if (index >= j.parts) {
                continue; // this loop was too small to need this worker
            }
            try {
                j.body.run(index, j.from(index), j.from(index + 1));
            } catch (Throwable t) {
                j.failure = t;
            }
            if (j.pending.decrementAndGet() == 0) {
                LockSupport.unpark(j.caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
