package dev.atmsae.sweep.slurm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What SLURM says about a sweep's jobs, per array task ("JOB_INDEX"): squeue for the jobs still queued or running,
 * sacct for how finished ones ended. Either may be absent (not a SLURM machine, accounting off); then it says nothing
 * and the status rests on the files alone.
 */
public final class SlurmQueue {
    private final Map<String, String> queued;
    private final Map<String, String> accounted;
    private final boolean squeue;
    private final boolean sacct;

    private SlurmQueue(Map<String, String> queued, Map<String, String> accounted, boolean squeue, boolean sacct) {
        this.queued = queued;
        this.accounted = accounted;
        this.squeue = squeue;
        this.sacct = sacct;
    }

    /** Nothing known (no SLURM, or no jobs submitted). */
    public static SlurmQueue none() {
        return new SlurmQueue(Map.of(), Map.of(), false, false);
    }

    /** Asks squeue and sacct about {@code jobIds} (array job ids and plain job ids). */
    public static SlurmQueue query(Collection<String> jobIds) {
        if (jobIds.isEmpty()) {
            return none();
        }
        String ids = String.join(",", jobIds);
        Map<String, String> queued = new LinkedHashMap<>();
        SlurmCommand.Result sq = SlurmCommand.run(List.of("squeue", "-h", "-r", "-o", "%i|%T", "-j", ids), 20);
        for (String line : sq.ok() ? sq.stdout().lines().toList() : List.<String>of()) {
            String[] f = line.strip().split("\\|");
            if (f.length == 2) {
                queued.put(f[0], f[1]);
            }
        }
        Map<String, String> accounted = new LinkedHashMap<>();
        SlurmCommand.Result sa = SlurmCommand.run(List.of("sacct", "-n", "-P", "-X", "-o", "JobID,State,ExitCode",
                "-j", ids), 20);
        for (String line : sa.ok() ? sa.stdout().lines().toList() : List.<String>of()) {
            String[] f = line.strip().split("\\|");
            if (f.length == 3) {
                accounted.put(f[0], f[1].split(" ")[0] + " (exit " + f[2] + ")");
            }
        }
        // squeue answers "invalid job id" once every job has left its memory: still a working squeue
        boolean squeueWorks = sq.ok() || sq.stderr().contains("Invalid job id");
        return new SlurmQueue(queued, accounted, squeueWorks, sa.ok());
    }

    /** squeue's state of an array task (PENDING, RUNNING, ...) while SLURM still holds it. */
    public Optional<String> queued(String job) {
        return Optional.ofNullable(queued.get(job));
    }

    /** sacct's final state of an array task with its exit code, e.g. "FAILED (exit 1:0)". */
    public Optional<String> accounted(String job) {
        return Optional.ofNullable(accounted.get(job));
    }

    /** True when squeue answered (so a job missing from it has left the queue). */
    public boolean squeueWorks() {
        return squeue;
    }

    public boolean sacctWorks() {
        return sacct;
    }

    /** The sources that answered, for the status's footer. */
    public List<String> sources() {
        List<String> s = new ArrayList<>();
        if (squeue) {
            s.add("squeue");
        }
        if (sacct) {
            s.add("sacct");
        }
        return s;
    }
}
