package dev.atmsae.sweep.slurm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The sbatch script of one {@link SlurmJob}. A training array's script runs the task in the background and waits, so
 * that its shell can take SLURM's warning before the time limit (SIGUSR1 to the batch shell, {@code --signal=B:USR1})
 * and pass it on as SIGTERM: the task writes its checkpoint at the next step and exits {@value #EXIT_CHECKPOINTED};
 * the shell then requeues the array task, which continues from that checkpoint. On preemption SLURM sends SIGTERM to
 * every process itself, the task checkpoints the same way, and SLURM requeues it ({@code --requeue}); the shell only
 * outlives the signal to wait for that checkpoint. A cancelled job is not requeued.
 */
public final class SlurmScript {
    /** The exit status of a task that was asked to stop and wrote its checkpoint (EX_TEMPFAIL: try again). */
    public static final int EXIT_CHECKPOINTED = 75;

    private SlurmScript() {
    }

    /**
     * @param job        the stage
     * @param resources  what to ask for
     * @param out        the output directory (absolute): logs go to out/logs
     * @param cwd        where the plan was made: every job starts there, so relative paths in the plan hold
     * @param launcher   the command that runs atmsae on a compute node
     * @param dependency the job id this stage waits for (afterok), or null
     * @param header     comment lines saying what the script is
     */
    public static String render(SlurmJob job, SlurmResources resources, Path out, Path cwd, String launcher,
                                String dependency, List<String> header) {
        List<String> sbatch = new ArrayList<>();
        sbatch.add("--job-name=atmsae-" + job.stage() + "-" + out.getFileName());
        if (job.isArray()) {
            sbatch.add("--array=" + job.arraySpec(resources.maxParallel()));
            sbatch.add("--output=" + out.resolve("logs").resolve(job.stage() + "-%a.log"));
        } else {
            sbatch.add("--output=" + out.resolve("logs").resolve(job.stage() + ".log"));
        }
        sbatch.add("--open-mode=append");
        sbatch.add("--chdir=" + cwd);
        sbatch.add("--requeue");
        if (job.isArray()) {
            sbatch.add("--signal=B:USR1@" + resources.signalGrace());
        }
        sbatch.addAll(resources.lines(job.isArray()));
        if (dependency != null) {
            sbatch.add("--dependency=afterok:" + dependency);
            sbatch.add("--kill-on-invalid-dep=yes");
        }
        StringBuilder s = new StringBuilder("#!/bin/bash\n");
        for (String line : sbatch) {
            s.append("#SBATCH ").append(line).append('\n');
        }
        s.append("#\n");
        for (String line : header) {
            s.append("# ").append(line).append('\n');
        }
        s.append(job.isArray()
                ? "# Each array task trains and evaluates one run: kept as it is if it finished before, continued from\n"
                        + "# its checkpoint if it was stopped.\n"
                : "# The " + job.stage() + " step, after the stage before it finished without a failure.\n");
        s.append("set -u\n");
        String command = shellWords(launcher, job.command());
        if (!job.isArray()) {
            s.append("echo \"atmsae: ").append(job.stage()).append(" (job ${SLURM_JOB_ID}) on $(hostname)\"\n");
            s.append("exec ").append(command).append('\n');
            return s.toString();
        }
        s.append("""
                warned=0
                warn() { # once: a second TERM would end the task before its checkpoint is written
                  [ "$warned" -eq 1 ] && return
                  warned=1; echo "atmsae: time limit in %d s (SIGUSR1): checkpointing"; kill -TERM "$child" 2>/dev/null
                }
                trap warn USR1
                trap 'echo "atmsae: SIGTERM (preempted or cancelled): the task writes its checkpoint and stops"' TERM
                echo "atmsae: task ${SLURM_ARRAY_TASK_ID} of job ${SLURM_ARRAY_JOB_ID} on $(hostname), start $((${SLURM_RESTART_COUNT:-0} + 1))"
                %s &
                child=$!
                while :; do
                  wait "$child"; rc=$?
                  kill -0 "$child" 2>/dev/null || break # a trapped signal ends wait early; wait again
                done
                if [ "$rc" -eq %d ] && [ "$warned" -eq 1 ]; then
                  echo "atmsae: requeueing ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}: it continues from its checkpoint"
                  scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
                fi
                exit "$rc"
                """.formatted(resources.signalGrace(), command, EXIT_CHECKPOINTED));
        return s.toString();
    }

    private static String shellWords(String launcher, List<String> args) {
        StringBuilder s = new StringBuilder(quote(launcher));
        for (String a : args) {
            s.append(' ').append(a.equals(SlurmJob.TASK_ID) ? "\"$SLURM_ARRAY_TASK_ID\"" : quote(a));
        }
        return s.toString();
    }

    /** A shell word that stands for {@code s} exactly (single quotes; plain when it needs none). */
    static String quote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:=,+@%-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
