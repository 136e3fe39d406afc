package dev.atmsae.sweep;

import dev.atmsae.report.MarkdownTable;
import dev.atmsae.sweep.slurm.SlurmQueue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where every run of a plan stands — done, running, failed or pending — from the files (a run's result.json, its
 * {@link TaskRecord}) and, where SLURM answers, from squeue and sacct: a task killed without a word (out of memory,
 * node failure) shows as failed with SLURM's state, a requeued one as pending.
 */
public final class SweepStatus {
    public static final String DONE = "done";
    public static final String RUNNING = "running";
    public static final String FAILED = "failed";
    public static final String PENDING = "pending";

    private SweepStatus() {
    }

    /** One run's state; {@code detail} says why (a failure's line, the job it runs as, its checkpoint). */
    public record Row(String stage, int task, String name, String state, String detail) {
    }

    /**
     * The rows of one stage of {@code plan} in {@code out}.
     *
     * @param jobs  the stage's SLURM job ids, oldest submission first (empty when not submitted)
     * @param queue what squeue and sacct say
     */
    public static List<Row> of(Path out, Plan plan, String stage, List<String> jobs, SlurmQueue queue) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < plan.size(stage); i++) {
            String name = plan.runName(stage, i);
            Path dir = plan.runDir(stage, i);
            rows.add(row(out, stage, i, name, dir, jobs, queue));
        }
        return rows;
    }

    private static Row row(Path out, String stage, int task, String name, Path dir, List<String> jobs,
                           SlurmQueue queue) {
        if (Files.exists(dir.resolve("result.json"))) {
            return new Row(stage, task, name, DONE, "");
        }
        Optional<TaskRecord> record = TaskRecord.read(out, name);
        String job = record.map(TaskRecord::job).orElse(null);
        if (job == null) {
            job = latestJobOf(task, jobs, queue);
        }
        Optional<String> queued = job == null ? Optional.empty() : queue.queued(job);
        Optional<String> accounted = job == null ? Optional.empty() : queue.accounted(job);
        String jobText = job == null ? "" : "job " + job;
        if (record.isEmpty()) {
            if (queued.isPresent()) {
                return new Row(stage, task, name, running(queued.get()) ? RUNNING : PENDING,
                        jobText + " " + queued.get().toLowerCase(Locale.ROOT));
            }
            if (accounted.isPresent() && !accounted.get().startsWith("COMPLETED")
                    && !accounted.get().startsWith("PENDING")) {
                return new Row(stage, task, name, FAILED, jobText + " ended " + accounted.get()
                        + " before the task started; see its log");
            }
            return new Row(stage, task, name, PENDING, jobText);
        }
        TaskRecord r = record.get();
        String where = jobText.isEmpty() ? "pid " + r.pid() + " on " + r.host() : jobText + " on " + r.host();
        switch (r.state()) {
            case TaskRecord.FAILED:
                return new Row(stage, task, name, FAILED, r.message() + " (" + where + ")");
            case TaskRecord.STOPPED:
                if (queued.isPresent() && running(queued.get())) {
                    return new Row(stage, task, name, RUNNING, "continuing: " + r.message() + " (" + jobText + ")");
                }
                return new Row(stage, task, name, PENDING, r.message() + (queued.isPresent()
                        ? "; " + jobText + " " + queued.get().toLowerCase(Locale.ROOT)
                        : "; resubmit to continue it"));
            case TaskRecord.RUNNING:
                if (queued.isPresent()) {
                    return new Row(stage, task, name, running(queued.get()) ? RUNNING : PENDING,
                            where + (running(queued.get()) ? ", since " + r.updated() : ", requeued"));
                }
                if (accounted.isPresent() && !accounted.get().startsWith("RUNNING")) {
                    return new Row(stage, task, name, FAILED, "the task ended " + accounted.get()
                            + " without a result (" + where + ")");
                }
                if (job == null && r.ranHere() && !r.processAliveHere()) {
                    return new Row(stage, task, name, FAILED, "the task (" + where + ") ended without a result");
                }
                if (job != null && queue.squeueWorks()) {
                    return new Row(stage, task, name, FAILED, "the task left the queue without a result (" + where
                            + ")");
                }
                return new Row(stage, task, name, RUNNING, where + ", since " + r.updated());
            default:
                // "done" without result.json: the result was deleted after the task finished
                return new Row(stage, task, name, PENDING, "its result.json is gone; the next task reruns it");
        }
    }

    private static boolean running(String squeueState) {
        return squeueState.equals("RUNNING") || squeueState.equals("COMPLETING") || squeueState.equals("CONFIGURING");
    }

    /** The newest submission's array task of this run that SLURM knows about, else the newest one. */
    private static String latestJobOf(int task, List<String> jobs, SlurmQueue queue) {
        for (int j = jobs.size() - 1; j >= 0; j--) {
            String id = jobs.get(j) + "_" + task;
            if (queue.queued(id).isPresent() || queue.accounted(id).isPresent()) {
                return id;
            }
        }
        return null;
    }

    /** Counts by state, in the order done, running, failed, pending. */
    public static Map<String, Integer> counts(List<Row> rows) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String s : List.of(DONE, RUNNING, FAILED, PENDING)) {
            counts.put(s, 0);
        }
        rows.forEach(r -> counts.merge(r.state(), 1, Integer::sum));
        return counts;
    }

    /** The status as a plain-text table with a summary line. */
    public static String render(List<Row> rows) {
        MarkdownTable t = new MarkdownTable("stage", "task", "run", "state", "detail");
        for (Row r : rows) {
            t.row(r.stage(), r.task(), r.name(), r.state(), r.detail());
        }
        StringBuilder s = new StringBuilder(t.renderPlain());
        List<String> parts = new ArrayList<>();
        counts(rows).forEach((state, n) -> parts.add(n + " " + state));
        s.append(String.join(", ", parts)).append(" (of ").append(rows.size()).append(" runs)\n");
        return s.toString();
    }
}
