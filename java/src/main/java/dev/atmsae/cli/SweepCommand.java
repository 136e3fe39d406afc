package dev.atmsae.cli;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.report.MarkdownTable;
import dev.atmsae.sweep.Plan;
import dev.atmsae.sweep.RunResult;
import dev.atmsae.sweep.Sweep;
import dev.atmsae.sweep.SweepReport;
import dev.atmsae.sweep.SweepSpec;
import dev.atmsae.sweep.slurm.SlurmJob;
import dev.atmsae.sweep.slurm.SlurmScript;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code atmsae sweep}: architectures × L0 targets × seeds in one command, with curves over L0 and CIs over seeds; or
 * the same sweep as separate processes (plan, one task per run, merge), submitted to SLURM as a job array.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train and evaluate architectures × L0 targets × seeds at matched L0 (k for topk/batchtopk/matryoshka,",
                "target_l0 for relu/atm/jumprelu); writes runs/, sweep.json, sweep.md and PNG curves into --out.",
                "Runs already finished in --out are reused, so an interrupted sweep continues.",
                "On a cluster: --slurm submits one array task per run and a merge (docs/cluster.md);",
                "--plan, --task and --merge are the same steps by hand; --status DIR shows where each run stands."})
public final class SweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "PATH", description = "Training shards (required to plan).")
    Path data;

    @Option(names = "--eval-data", paramLabel = "PATH", description = "Held-out shards for reconstruction metrics (default: --data).")
    Path evalData;

    @Option(names = "--archs", split = ",", paramLabel = "A,B", defaultValue = "atm,topk,batchtopk,jumprelu,relu,matryoshka",
            description = "Architectures (default ${DEFAULT-VALUE}).")
    List<String> archs;

    @Option(names = "--target-l0", split = ",", paramLabel = "L,M", description = "L0 targets (required to plan).")
    List<Double> targetL0s;

    @Option(names = "--seeds", split = ",", defaultValue = "1", paramLabel = "S,T", description = "Seeds (default ${DEFAULT-VALUE}).")
    List<Long> seeds;

    @Option(names = "--width", paramLabel = "N", description = "Dictionary width (required to plan).")
    Integer width;

    @Option(names = "--tokens", paramLabel = "T", description = "Training tokens per SAE (required to plan).")
    Long tokens;

    @Option(names = "--batch", defaultValue = "4096", paramLabel = "B", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--eval-tokens", defaultValue = "65536", paramLabel = "T", description = "Tokens for reconstruction metrics (default ${DEFAULT-VALUE}).")
    long evalTokens;

    @Option(names = "--probe-set", paramLabel = "DIR", description = "Probe set for absorption and sparse probing.")
    Path probeSet;

    @Option(names = "--truth", paramLabel = "DIR", description = "Synthetic truth directory (atmsae synth) for ground-truth absorption.")
    Path truth;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--engine", defaultValue = "cpu", paramLabel = "ENGINE", description = "cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--threads", paramLabel = "N", description = "CPU engine threads (default: all processors).")
    Integer threads;

    @Option(names = "--parallel-runs", paramLabel = "R", defaultValue = "1", description = "Runs trained and evaluated "
            + "at once, each on its own engine (use with --threads, e.g. 2 runs × 1 thread on 2 cores). Default 1: run i "
            + "is evaluated while run i+1 trains. Results do not depend on it.")
    int parallelRuns;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A TrainConfig key for every run, or ARCH:KEY=VALUE for one architecture (repeatable).")
    Map<String, String> sets = new LinkedHashMap<>();

    @Option(names = "--meta", paramLabel = "KEY=VALUE", description = "Extra cfg.json metadata for every export.")
    Map<String, String> meta = new LinkedHashMap<>();

    @Option(names = "--quiet", description = "Print nothing but errors and the final table.")
    boolean quiet;

    @Option(names = "--status", paramLabel = "DIR", description = "Show done / running / failed / pending for every run "
            + "of the plan in DIR (from its files, and squeue/sacct where present) and exit.")
    Path status;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws IOException {
        cluster.check(spec.commandLine(), status == null ? null : "--status");
        PrintWriter stdout = spec.commandLine().getOut();
        if (status != null) {
            return ClusterOptions.printStatus(status, stdout);
        }
        ClusterOptions.requireOut(spec.commandLine(), out);
        if (cluster.task != null) {
            return task();
        }
        if (cluster.merge) {
            return merge();
        }
        if (cluster.slurm && data == null && Files.exists(out.resolve(Plan.FILE))) {
            return submit(Plan.read(out)); // the plan already in --out, as it is: a resubmission
        }
        Sweep sweep = new Sweep(plannedSpec(), this::engine, System.err, parallelRuns)
                .withCheckpointEvery(cluster.checkpointEvery);
        if (cluster.plan) {
            sweep.plan().claim(out);
            stdout.println("planned " + sweep.plannedRuns().size() + " runs into " + out.resolve(Plan.FILE)
                    + "; run task I with: atmsae sweep --out " + out + " --task I");
            stdout.flush();
            return 0;
        }
        if (cluster.slurm) {
            Plan plan = sweep.plan();
            if (cluster.dryRun) {
                return submit(plan);
            }
            plan.claim(out);
            return submit(Plan.read(out));
        }
        List<RunResult> runs = sweep.run();
        printTable(SweepReport.write(sweep.spec(), runs));
        return 0;
    }

    private Engine engine() {
        return EngineChoice.open(engine, threads, spec.commandLine());
    }

    /** The spec of a sweep being planned: every planning option must be there. */
    private SweepSpec plannedSpec() {
        List<String> missing = new ArrayList<>();
        if (data == null) {
            missing.add("'--data=PATH'");
        }
        if (targetL0s == null) {
            missing.add("'--target-l0=L,M'");
        }
        if (width == null) {
            missing.add("'--width=N'");
        }
        if (tokens == null) {
            missing.add("'--tokens=T'");
        }
        if (!missing.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option"
                    + (missing.size() > 1 ? "s: " : ": ") + String.join(", ", missing));
        }
        List<ArchKind> kinds = new ArrayList<>();
        for (String a : archs) {
            try {
                kinds.add(ArchKind.parse(a.trim()));
            } catch (UserError e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        return new SweepSpec(data, evalData, kinds, targetL0s, seeds, width, tokens, batch, evalTokens, probeSet,
                truth, out, engine, threads, new LinkedHashMap<>(sets), new LinkedHashMap<>(meta), quiet);
    }

    /** The sweep of the plan in --out, run with this process's engine. */
    private Sweep plannedSweep(Plan plan) {
        if (!Sweep.STAGE.equals(plan.kind())) {
            throw UserError.inFile(plan.file(), "is the plan of a " + plan.kind() + "; use atmsae " + plan.kind());
        }
        return new Sweep(SweepSpec.fromPlanMap(plan.sweep(), engine, threads, quiet), this::engine, System.err)
                .withCheckpointEvery(cluster.checkpointEvery);
    }

    private int task() {
        Plan plan = Plan.read(out);
        int index = cluster.taskIndex();
        Sweep.TaskOutcome outcome = plannedSweep(plan).runPlanned(plan, Sweep.STAGE, index, "[task " + index + "] ",
                TaskSignals.install());
        return outcome.state() == Sweep.TaskState.STOPPED ? SlurmScript.EXIT_CHECKPOINTED : 0;
    }

    private int merge() throws IOException {
        Plan plan = Plan.read(out);
        Sweep sweep = plannedSweep(plan);
        Sweep.Merged merged = sweep.merge(plan);
        printTable(SweepReport.write(sweep.spec(), merged.finished()));
        if (!merged.unfinished().isEmpty()) {
            throw new UserError("sweep: " + merged.unfinished().size() + " of " + plan.size(Sweep.STAGE)
                    + " runs did not finish (" + describe(merged.unfinished()) + "); the report in "
                    + out.resolve("sweep.md") + " holds the " + merged.finished().size() + " that did");
        }
        return 0;
    }

    /** "a: failed: why; b: pending" for at most three runs, then how many more. */
    static String describe(Map<String, String> unfinished) {
        List<String> parts = new ArrayList<>();
        unfinished.entrySet().stream().limit(3).forEach(e -> parts.add(e.getKey() + " " + e.getValue()));
        if (unfinished.size() > 3) {
            parts.add((unfinished.size() - 3) + " more");
        }
        return String.join("; ", parts);
    }

    /**
     * Submits a plan: its unfinished runs as one array (a run with a broken plan entry counts as unfinished, and its
     * task fails), then the merge after it. A dry run prints the scripts instead.
     */
    private int submit(Plan plan) {
        int total = plan.size(Sweep.STAGE);
        List<Integer> todo = ClusterOptions.unfinishedTasks(plan, Sweep.STAGE);
        Path absOut = out.toAbsolutePath().normalize();
        List<SlurmJob> jobs = new ArrayList<>();
        cluster.taskArray("sweep", absOut, Sweep.STAGE, false, todo, engine, threads).ifPresent(jobs::add);
        jobs.add(new SlurmJob("merge", null, List.of("sweep", "--out", absOut.toString(), "--merge")));
        return cluster.submit(jobs, "sweep", out, plan.cwd(), todo.isEmpty()
                ? "nothing to train: all " + total + " runs have finished"
                : "submitted " + todo.size() + " of " + total + " runs", spec.commandLine().getOut());
    }

    private void printTable(MarkdownTable table) {
        spec.commandLine().getOut().print(table.renderPlain());
        spec.commandLine().getOut().flush();
    }
}
