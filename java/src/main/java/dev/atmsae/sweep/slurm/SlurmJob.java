package dev.atmsae.sweep.slurm;

import java.util.List;

/**
 * One stage of a chain submitted to SLURM: a job array whose tasks each run one planned run, or one light job (a
 * study's selection, a merge). Each stage starts when the one before it finished without a failure.
 *
 * @param stage   the stage's name (sweep, screen, select, confirm, merge, report): job name, script and log names
 * @param tasks   the array task indices (the runs of the stage still to do), or null for a single light job
 * @param command atmsae's arguments (after the launcher); {@link #TASK_ID} stands for the array task index
 */
public record SlurmJob(String stage, List<Integer> tasks, List<String> command) {
    /** Stands for {@code $SLURM_ARRAY_TASK_ID} in {@link #command}. */
    public static final String TASK_ID = "\u0000task";

    public SlurmJob {
        command = List.copyOf(command);
        tasks = tasks == null ? null : List.copyOf(tasks);
        if (tasks != null && tasks.isEmpty()) {
            throw new IllegalArgumentException("an array needs at least one task");
        }
    }

    public boolean isArray() {
        return tasks != null;
    }

    /** The {@code --array} value: the indices as ranges ("0-5", "1,3-4"), then %maxParallel when capped. */
    String arraySpec(Integer maxParallel) {
        StringBuilder s = new StringBuilder();
        int i = 0;
        while (i < tasks.size()) {
            int j = i;
            while (j + 1 < tasks.size() && tasks.get(j + 1) == tasks.get(j) + 1) {
                j++;
            }
            if (!s.isEmpty()) {
                s.append(',');
            }
            s.append(tasks.get(i));
            if (j > i) {
                s.append('-').append(tasks.get(j));
            }
            i = j + 1;
        }
        if (maxParallel != null) {
            s.append('%').append(maxParallel);
        }
        return s.toString();
    }
}
