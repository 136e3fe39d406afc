package dev.atmsae.sweep.slurm;

import dev.atmsae.util.UserError;
import java.util.ArrayList;
import java.util.List;

/**
 * What each array task asks SLURM for, and how the arrays run: the {@code #SBATCH} lines atmsae writes from its flags.
 * Null (or empty) means "the cluster's default" and writes no line.
 *
 * @param gres         generic resources per task, e.g. {@code gpu:1} (GPUs go here)
 * @param cpusPerTask  CPUs per task
 * @param mem          memory per node, e.g. {@code 32G}
 * @param time         time limit per task, e.g. {@code 04:00:00}
 * @param partition    partition
 * @param account      account to charge
 * @param maxParallel  at most this many tasks of an array at once (the {@code %P} of {@code --array}); null = no cap
 * @param signalGrace  seconds before the time limit at which SLURM warns a task (SIGUSR1 to the batch shell) so it
 *                     writes its checkpoint and requeues itself
 * @param extra        further {@code #SBATCH} options passed through as given (e.g. {@code --qos=high}), on every job
 */
public record SlurmResources(String gres, Integer cpusPerTask, String mem, String time, String partition,
                             String account, Integer maxParallel, int signalGrace, List<String> extra) {
    public SlurmResources {
        extra = extra == null ? List.of() : extra.stream().map(SlurmResources::option).toList();
        for (String value : new String[] {gres, mem, time, partition, account}) {
            if (value != null && (value.isBlank() || value.chars().anyMatch(Character::isWhitespace))) {
                throw new UserError("SLURM option value '" + value + "' must be one word");
            }
        }
        if (cpusPerTask != null && cpusPerTask < 1) {
            throw new UserError("--cpus-per-task must be ≥ 1, got " + cpusPerTask);
        }
        if (maxParallel != null && maxParallel < 1) {
            throw new UserError("--max-parallel must be ≥ 1, got " + maxParallel);
        }
        if (signalGrace < 1) {
            throw new UserError("--signal-grace must be ≥ 1 second, got " + signalGrace);
        }
    }

    /** A pass-through line as an sbatch option: "#SBATCH --qos=x" and "--qos=x" both give "--qos=x". */
    private static String option(String line) {
        String s = line.strip().replaceFirst("^#SBATCH\\s+", "");
        if (!s.startsWith("-") || s.contains("\n")) {
            throw new UserError("--sbatch '" + line + "' is not an sbatch option (e.g. --qos=high)");
        }
        return s;
    }

    /** The lines of a job of the arrays that train (GPUs, CPUs, memory) or of a light step (select, merge). */
    List<String> lines(boolean trains) {
        List<String> out = new ArrayList<>();
        if (trains) {
            add(out, "--gres", gres);
            add(out, "--cpus-per-task", cpusPerTask == null ? null : cpusPerTask.toString());
            add(out, "--mem", mem);
        } else {
            out.add("--cpus-per-task=1");
        }
        add(out, "--time", time);
        add(out, "--partition", partition);
        add(out, "--account", account);
        out.addAll(extra);
        return out;
    }

    private static void add(List<String> out, String option, String value) {
        if (value != null) {
            out.add(option + "=" + value);
        }
    }
}
