package dev.atmsae.engine.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed pool that runs one range loop at a time: [0, n) is cut into contiguous parts (at most
 * {@link #PARTS_PER_THREAD} per thread) that the calling thread and the parked daemon workers claim one at a time.
 * Kernels give each part a disjoint set of output elements and never split one floating-point reduction across parts,
 * so results depend neither on the number of parts nor on which thread runs which part. Claiming (instead of a fixed
 * part per thread) keeps a loop moving when a worker is descheduled on a busy machine: the caller takes its parts.
 * Not reentrant: one caller at a time (the engine is single-caller by contract).
 */
final class WorkerPool implements AutoCloseable {
    /** Parts per thread: small enough parts that a late or descheduled worker costs little. */
    static final int PARTS_PER_THREAD = 4;

    /**
     * The body of a range loop; {@code worker} (0 ≤ worker &lt; threads) identifies the running thread, for its
     * per-thread scratch (a thread may run several parts, one after another).
     */
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
        final AtomicInteger nextPart = new AtomicInteger();
        final AtomicInteger unfinished;
        volatile Throwable failure;

        Job(RangeBody body, int n, int parts, Thread caller) {
            this.body = body;
            this.n = n;
            this.parts = parts;
            this.caller = caller;
            this.unfinished = new AtomicInteger(parts);
        }

        int from(int part) {
            return (int) ((long) n * part / parts);
        }

        /** Claims and runs parts until none is left; true when this thread finished the job's last part. */
        boolean work(int worker) {
            boolean finishedLast = false;
            for (int part = nextPart.getAndIncrement(); part < parts; part = nextPart.getAndIncrement()) {
                try {
                    body.run(worker, from(part), from(part + 1));
                } catch (Throwable t) {
                    failure = t;
                }
                finishedLast = unfinished.decrementAndGet() == 0;
            }
            return finishedLast;
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
        if (n <= 0 || threads == 1) {
            return 1;
        }
        return splitSmallLoops ? Math.min(threads, n)
                : (int) Math.min((long) threads * PARTS_PER_THREAD, Math.max(1L, n / (long) Math.max(1, grain)));
    }

    /**
     * Runs {@code body} over [0, n) in parts of at least {@code grain} elements (fewer parts for small n, so that
     * tiny loops do not pay for waking threads).
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
        for (int w = 1; w < Math.min(threads, parts); w++) {
            LockSupport.unpark(workers[w - 1]);
        }
        j.work(0);
        while (j.unfinished.get() != 0) {
            LockSupport.park(this);
        }
        Throwable failure = j.failure;
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
            if (j.work(index)) {
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
