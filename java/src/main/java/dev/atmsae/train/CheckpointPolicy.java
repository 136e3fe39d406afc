package dev.atmsae.train;

import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/**
 * Decides when the training loop writes a checkpoint: every {@code every} steps, at the end, and when a stop was
 * requested (SIGINT/SIGTERM). A signal handler only sets a flag; the loop reads it at the next step boundary, writes
 * the checkpoint itself and stops, so no thread ever reads training state while the loop is changing it.
 * A second signal while the first is pending ends the process at once (the last complete checkpoint stays valid
 * because every checkpoint file is written atomically).
 */
public final class CheckpointPolicy {
    private final long every;
    private final AtomicReference<String> stopReason = new AtomicReference<>();

    /** @param every steps between checkpoints; 0 = only at the end and on a stop request */
    public CheckpointPolicy(long every) {
        if (every < 0) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + every);
        }
        this.every = every;
    }

    /** True when a checkpoint is due after {@code step} completed steps. */
    public boolean due(long step) {
        return every > 0 && step % every == 0;
    }

    /** Asks the loop to checkpoint and stop at the next step boundary (callable from any thread). */
    public void requestStop(String reason) {
        stopReason.compareAndSet(null, reason);
    }

    public boolean stopRequested() {
        return stopReason.get() != null;
    }

    /** Why a stop was requested ("SIGINT", ...), or null. */
    public String stopReason() {
        return stopReason.get();
    }

    /**
     * Routes SIGINT and SIGTERM to {@link #requestStop}. Uses {@code sun.misc.Signal} (module jdk.unsupported, present
     * in every JDK and in the jlink'd runtime) so the JVM's own shutdown does not race the loop.
     */
    public void installSignalHandlers() {
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), sig -> {
                    if (stopRequested()) {
                        Runtime.getRuntime().halt(128 + sig.getNumber());
                    }
                    requestStop("SIG" + sig.getName());
                });
            } catch (IllegalArgumentException unavailable) {
                // the signal is reserved on this platform (e.g. -Xrs): keep the JVM's default behaviour
            }
        }
    }
}
