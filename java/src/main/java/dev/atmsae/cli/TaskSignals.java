package dev.atmsae.cli;

import dev.atmsae.sweep.Sweep;
import sun.misc.Signal;

/**
 * A task's stop request from SIGTERM or SIGINT (what SLURM sends on preemption, and what the batch script passes on
 * when SLURM warns of the time limit): the first signal asks the training loop to write a checkpoint at the next step
 * and stop; a second one while that is pending ends the process at once (the last checkpoint is intact: checkpoints
 * are written atomically). A signal during evaluation lets the evaluation finish.
 */
final class TaskSignals implements Sweep.StopRequest {
    private volatile String reason;

    private TaskSignals() {
    }

    /** Takes over SIGTERM and SIGINT for this process. */
    static TaskSignals install() {
        TaskSignals signals = new TaskSignals();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), sig -> {
                    if (signals.reason != null) {
                        Runtime.getRuntime().halt(128 + sig.getNumber());
                    }
                    signals.reason = "SIG" + sig.getName();
                });
            } catch (IllegalArgumentException unavailable) {
                // reserved on this platform (e.g. -Xrs): the JVM's default stays, the run restarts from its last checkpoint
            }
        }
        return signals;
    }

    @Override
    public String reason() {
        return reason;
    }
}
