package dev.atmsae.cli;

import dev.atmsae.study.Study;
import dev.atmsae.sweep.Plan;
import dev.atmsae.sweep.SweepStatus;
import dev.atmsae.sweep.slurm.SlurmJob;
import dev.atmsae.sweep.slurm.SlurmQueue;
import dev.atmsae.sweep.slurm.SlurmResources;
import dev.atmsae.sweep.slurm.SlurmSubmission;
import dev.atmsae.util.UserError;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The cluster options {@code sweep} and {@code study} share: plan / task / merge as separate processes, submission to
 * SLURM as job arrays with their resources, and the status of a plan's runs. docs/cluster.md describes the workflow.
 */
final class ClusterOptions {
    /** --task's value when given without one: read from the environment. */
    private static final String FROM_ENV = "env";

    @Option(names = "--plan", description = "Write the plan (every run's resolved config and task index) into --out as "
            + "plan.json and exit.")
    boolean plan;

    @Option(names = "--task", arity = "0..1", fallbackValue = FROM_ENV, paramLabel = "I", description = "Train and "
            + "evaluate task I of the plan in --out (without I: $SLURM_ARRAY_TASK_ID, else $JOB_COMPLETION_INDEX). "
            + "A finished run is kept as it is; a stopped one continues from its checkpoint. Exit 75: stopped by a "
            + "signal with a checkpoint written (run it again to continue).")
    String task;

    @Option(names = "--merge", description = "Write the report from the finished runs of the plan in --out; exit 1 "
            + "naming the runs that did not finish (the report then holds the others).")
    boolean merge;

    @Option(names = "--slurm", description = "Plan into --out, then submit with sbatch: one job array per stage, chained "
            + "with --dependency=afterok; finished runs are not submitted again.")
    boolean slurm;

    @Option(names = "--dry-run", description = "With --slurm: print the sbatch scripts instead of submitting.")
    boolean dryRun;

    @Option(names = "--gres", paramLabel = "GRES", description = "SLURM: generic resources per task, e.g. gpu:1.")
    String gres;

    @Option(names = "--cpus-per-task", paramLabel = "N", description = "SLURM: CPUs per task (also the CPU engine's "
            + "threads unless --threads is given).")
    Integer cpusPerTask;

    @Option(names = "--mem", paramLabel = "MEM", description = "SLURM: memory per task, e.g. 32G.")
    String mem;

    @Option(names = "--time", paramLabel = "LIMIT", description = "SLURM: time limit per task, e.g. 04:00:00.")
    String time;

    @Option(names = "--partition", paramLabel = "NAME", description = "SLURM partition.")
    String partition;

    @Option(names = "--account", paramLabel = "NAME", description = "SLURM account.")
    String account;

    @Option(names = "--sbatch", paramLabel = "OPTION", description = "Any other #SBATCH option for every job, e.g. "
            + "--sbatch=--qos=high (repeatable).")
    List<String> sbatch = new ArrayList<>();

    @Option(names = "--max-parallel", paramLabel = "P", description = "SLURM: at most P tasks of an array at once (%%P).")
    Integer maxParallel;

    @Option(names = "--signal-grace", paramLabel = "S", defaultValue = "300", description = "SLURM: seconds before the "
            + "time limit at which a task checkpoints and requeues itself (default ${DEFAULT-VALUE}).")
    int signalGrace;

    @Option(names = "--launcher", paramLabel = "CMD", description = "The atmsae command the jobs run (default: "
            + "this launcher, else atmsae on the PATH).")
    String launcher;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "0", description = "Also checkpoint "
            + "every STEPS training steps (default 0: only when a task is asked to stop).")
    long checkpointEvery;

    /** At most one mode; --dry-run only with --slurm. Usage errors. */
    void check(CommandLine cli, String... otherModes) {
        int modes = (plan ? 1 : 0) + (task != null ? 1 : 0) + (merge ? 1 : 0) + (slurm ? 1 : 0);
        for (String m : otherModes) {
            modes += m == null ? 0 : 1;
        }
        if (modes > 1) {
            throw new CommandLine.ParameterException(cli, "choose one mode: --plan, --task, --merge, --slurm"
                    + (otherModes.length > 0 ? ", --status" : "") + (otherModes.length > 2 ? ", --select, --report-only"
                    : ""));
        }
        if (dryRun && !slurm) {
            throw new CommandLine.ParameterException(cli, "--dry-run goes with --slurm");
        }
    }

    /** Every mode but --status works on --out: a usage error without it. */
    static void requireOut(CommandLine cli, Path out) {
        if (out == null) {
            throw new CommandLine.ParameterException(cli, "Missing required option: '--out=DIR'");
        }
    }

    /** The task index: --task I, or from $SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX. */
    int taskIndex() {
        String value = task;
        String source = "--task";
        if (FROM_ENV.equals(value)) {
            for (String env : List.of("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX")) {
                if (System.getenv(env) != null) {
                    value = System.getenv(env);
                    source = "$" + env;
                    break;
                }
            }
            if (FROM_ENV.equals(value)) {
                throw new UserError("--task without a number needs $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX");
            }
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new UserError(source + " must be a task index (0, 1, ...), got '" + value + "'");
        }
    }

    SlurmResources resources() {
        return new SlurmResources(gres, cpusPerTask, mem, time, partition, account, maxParallel, signalGrace, sbatch);
    }

    /** The command the jobs run: --launcher, else the launcher that started this process, else atmsae on the PATH. */
    String launcher() {
        if (launcher != null) {
            return launcher;
        }
        String self = System.getenv("ATMSAE_LAUNCHER");
        return self != null ? self : "atmsae";
    }

    /** Engine options for the tasks' command line: the engine, and threads (given, else the CPUs per task). */
    List<String> engineArgs(String engine, Integer threads) {
        List<String> args = new ArrayList<>(List.of("--engine", engine));
        Integer t = threads != null ? threads : cpusPerTask;
        if (t != null) {
            args.addAll(List.of("--threads", t.toString()));
        }
        if (checkpointEvery > 0) {
            args.addAll(List.of("--checkpoint-every", Long.toString(checkpointEvery)));
        }
        return args;
    }

    /** The tasks of a stage whose run has no result yet (a broken plan entry counts: its task will fail). */
    static List<Integer> unfinishedTasks(Plan plan, String stage) {
        List<Integer> todo = new ArrayList<>();
        for (int i = 0; i < plan.size(stage); i++) {
            if (!Files.exists(plan.runDir(stage, i).resolve("result.json"))) {
                todo.add(i);
            }
        }
        return todo;
    }

    /**
     * The job array of a stage's {@code tasks}: {@code atmsae VERB --out OUT [--stage STAGE] --task $SLURM_ARRAY_TASK_ID}
     * with this invocation's engine options; none when there is nothing to do.
     */
    Optional<SlurmJob> taskArray(String verb, Path absOut, String stage, boolean named, List<Integer> tasks,
                                 String engine, Integer threads) {
        if (tasks.isEmpty()) {
            return Optional.empty();
        }
        List<String> command = new ArrayList<>(List.of(verb, "--out", absOut.toString()));
        if (named) {
            command.addAll(List.of("--stage", stage));
        }
        command.addAll(List.of("--task", SlurmJob.TASK_ID));
        command.addAll(engineArgs(engine, threads));
        return Optional.of(new SlurmJob(stage, tasks, command));
    }

    /**
     * Submits the chain of {@code jobs} for the plan made in {@code cwd} (or prints it with --dry-run), then says what
     * was submitted and how to watch it. Returns 0.
     */
    int submit(List<SlurmJob> jobs, String verb, Path out, Path cwd, String summary, PrintWriter stdout) {
        Path absOut = out.toAbsolutePath().normalize();
        SlurmSubmission submission = new SlurmSubmission(resources(), absOut, cwd, launcher(), List.of(
                "Written by atmsae " + Plan.atmsaeVersion() + " (atmsae " + verb + " --slurm) for the plan in "
                        + absOut.resolve(Plan.FILE) + ".",
                "Watch: atmsae " + verb + " --status " + absOut));
        if (dryRun) {
            submission.dryRun(jobs, stdout);
            return 0;
        }
        List<SlurmSubmission.Submitted> submitted = submission.submit(jobs);
        if (summary != null) {
            stdout.println(summary);
        }
        for (SlurmSubmission.Submitted s : submitted) {
            stdout.println(s.stage() + ": job " + s.jobId() + (s.array() == null ? "" : " (array " + s.array() + ")")
                    + ", script " + s.script());
        }
        stdout.println("watch: atmsae " + verb + " --status " + out + "   logs: " + absOut.resolve("logs"));
        stdout.flush();
        return 0;
    }

    /**
     * Prints where every run of the plan in {@code dir} stands (a sweep's, or a study's: its screening and, once
     * selected, its confirmation runs). Returns 0.
     */
    static int printStatus(Path dir, PrintWriter out) {
        Plan plan = Plan.readAnywhere(dir);
        List<String> notes = new ArrayList<>();
        if (plan.kind().equals("study")) {
            plan = Study.fromPlan(plan, dir, () -> {
                throw new IllegalStateException("a status trains nothing");
            }, System.err, true).withConfirmStage(plan);
            if (!plan.hasStage(Study.CONFIRM)) {
                notes.add("confirm: planned by the selection step, once screening has finished");
            }
        }
        Map<String, List<String>> jobs = SlurmSubmission.jobsByStage(dir);
        List<String> ids = jobs.values().stream().flatMap(List::stream).distinct().toList();
        SlurmQueue queue = SlurmQueue.query(ids);
        List<SweepStatus.Row> rows = new ArrayList<>();
        for (String stage : plan.stageNames()) {
            rows.addAll(SweepStatus.of(dir, plan, stage, jobs.getOrDefault(stage, List.of()), queue));
        }
        out.print(SweepStatus.render(rows));
        notes.forEach(out::println);
        List<String> sources = new ArrayList<>(List.of("the files in " + dir));
        sources.addAll(queue.sources());
        out.println("from: " + String.join(", ", sources));
        out.flush();
        return 0;
    }
}
