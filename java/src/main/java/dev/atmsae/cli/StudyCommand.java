package dev.atmsae.cli;

import dev.atmsae.engine.Engine;
import dev.atmsae.study.Candidate;
import dev.atmsae.study.Study;
import dev.atmsae.study.StudyReport;
import dev.atmsae.study.StudySpec;
import dev.atmsae.sweep.Plan;
import dev.atmsae.sweep.Sweep;
import dev.atmsae.sweep.slurm.SlurmJob;
import dev.atmsae.sweep.slurm.SlurmScript;
import dev.atmsae.util.UserError;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code atmsae study}: the staged ATM study of one config file (screen → select → matched-L0 confirmation), in this
 * process, or as separate steps (plan, screening tasks, selection, confirmation tasks, merge) submitted to SLURM.
 */
@Command(name = "study", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a staged matched-L0 study of ATM's configurations against the baselines",
                "from one JSON config (studies/, docs/atm-study-config.md): screening at one L0",
                "and seed, then the best ATM configurations and every baseline at each L0 x seed.",
                "Writes study.md, study.json and Pareto PNGs into --out. Finished runs in --out",
                "are reused, so a killed study continues where it stopped.",
                "On a cluster: --slurm submits plan -> screening array -> selection -> confirmation",
                "array -> report as chained jobs (docs/cluster.md)."})
public final class StudyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "Study config (JSON; required to plan).")
    Path config;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (runs/, data/, study.md, study.json, PNGs).")
    Path out;

    @Option(names = "--engine", defaultValue = "auto", paramLabel = "ENGINE", description = "cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--threads", paramLabel = "N", description = "CPU engine threads (default: all processors).")
    Integer threads;

    @Option(names = "--quiet", description = "Print nothing but errors and the verdict.")
    boolean quiet;

    @Option(names = "--report-only", description = "Train nothing: write the report from the runs finished so far (an interim report; unfinished runs are left out and counted).")
    boolean reportOnly;

    @Option(names = "--stage", paramLabel = "STAGE", description = "With --task: screen or confirm.")
    String stage;

    @Option(names = "--select", description = "The selection step: choose the configurations to confirm from the "
            + "finished screening (as a local study does) and write selection.json.")
    boolean select;

    @Option(names = "--status", paramLabel = "DIR", description = "Show done / running / failed / pending for every run "
            + "of the study in DIR and exit.")
    Path status;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() {
        cluster.check(spec.commandLine(), select ? "--select" : null, status == null ? null : "--status",
                reportOnly ? "--report-only" : null);
        PrintWriter stdout = spec.commandLine().getOut();
        if (status != null) {
            return ClusterOptions.printStatus(status, stdout);
        }
        ClusterOptions.requireOut(spec.commandLine(), out);
        if (cluster.task != null) {
            if (stage == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--task needs --stage screen|confirm");
            }
            Plan plan = Plan.read(out);
            Study study = plannedStudy(plan, plan.out());
            Optional<Sweep.TaskOutcome> outcome = study.runTask(stage, cluster.taskIndex(), TaskSignals.install());
            return outcome.isPresent() && outcome.get().state() == Sweep.TaskState.STOPPED
                    ? SlurmScript.EXIT_CHECKPOINTED : 0;
        }
        if (select) {
            Plan plan = Plan.read(out);
            List<Candidate> selected = plannedStudy(plan, plan.out()).select();
            stdout.println("selected " + selected.stream().map(Candidate::name).toList() + "; written to "
                    + out.resolve(Study.SELECTION_FILE));
            stdout.flush();
            return 0;
        }
        if (cluster.merge) {
            Plan plan = Plan.read(out);
            Study study = plannedStudy(plan, plan.out());
            report(study, study.outcome());
            Map<String, String> unfinished = study.unfinished();
            if (!unfinished.isEmpty()) {
                throw new UserError("study: " + unfinished.size() + " run(s) did not finish ("
                        + SweepCommand.describe(unfinished) + "); the report in " + out.resolve("study.md")
                        + " is an interim one without them");
            }
            return 0;
        }
        if (config == null && cluster.slurm && java.nio.file.Files.exists(out.resolve(Plan.FILE))) {
            Plan plan = Plan.read(out);
            return submit(plannedStudy(plan, plan.out())); // the plan already in --out: a resubmission
        }
        if (config == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--config=FILE'");
        }
        Study study = new Study(StudySpec.Source.read(config), out, this::engine, System.err, quiet, reportOnly)
                .withCheckpointEvery(cluster.checkpointEvery);
        if (cluster.plan) {
            study.plan().claim(out);
            study.prepareData();
            stdout.println("planned the study into " + out.resolve(Plan.FILE) + " (" + study.plan().size(
                    study.plan().stageNames().get(0)) + " " + study.plan().stageNames().get(0) + " tasks)");
            stdout.flush();
            return 0;
        }
        if (cluster.slurm) {
            return submit(study);
        }
        report(study, study.run());
        return 0;
    }

    private Engine engine() {
        return EngineChoice.open(engine, threads, spec.commandLine());
    }

    /** The study of a plan; {@code dir}: its output directory as the plan spells it, or (only to read) as given. */
    private Study plannedStudy(Plan plan, Path dir) {
        return Study.fromPlan(plan, dir, this::engine, System.err, quiet).withCheckpointEvery(cluster.checkpointEvery);
    }

    private void report(Study study, Study.Outcome outcome) {
        StudyReport.write(out, study.spec(), outcome);
        spec.commandLine().getOut().println(outcome.analysis().verdictText());
        spec.commandLine().getOut().println("report: " + out.resolve("study.md"));
        spec.commandLine().getOut().flush();
    }

    /**
     * Plans into --out (and writes the synthetic data), then submits the chain: screening array, selection,
     * confirmation array (sized for the largest selection; its surplus tasks do nothing), report. Finished stages and
     * runs are left out.
     */
    private int submit(Study study) {
        Plan plan = study.plan();
        if (!cluster.dryRun) {
            plan.claim(out);
            study.prepareData();
            plan = study.withConfirmStage(Plan.read(out));
        }
        Path absOut = out.toAbsolutePath().normalize();
        List<SlurmJob> jobs = new ArrayList<>();
        if (plan.hasStage(Study.SCREEN)) {
            cluster.taskArray("study", absOut, Study.SCREEN, true, ClusterOptions.unfinishedTasks(plan, Study.SCREEN),
                    engine, threads).ifPresent(jobs::add);
        }
        List<Integer> confirm;
        if (plan.hasStage(Study.CONFIRM)) {
            confirm = ClusterOptions.unfinishedTasks(plan, Study.CONFIRM);
        } else {
            jobs.add(new SlurmJob("select", null, List.of("study", "--out", absOut.toString(), "--select")));
            confirm = IntStream.range(0, study.confirmCapacity()).boxed().toList();
        }
        cluster.taskArray("study", absOut, Study.CONFIRM, true, confirm, engine, threads).ifPresent(jobs::add);
        jobs.add(new SlurmJob("report", null, List.of("study", "--out", absOut.toString(), "--merge")));
        return cluster.submit(jobs, "study", out, plan.cwd(), null, spec.commandLine().getOut());
    }
}
