package dev.atmsae.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.core.ArchKind;
import dev.atmsae.data.ActivationLoader;
import dev.atmsae.engine.Engine;
import dev.atmsae.eval.EngineCodes;
import dev.atmsae.eval.SaeEvaluator;
import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.eval.absorption.ReportWriter;
import dev.atmsae.eval.absorption.SparseProbing;
import dev.atmsae.eval.synth.SynthAbsorption;
import dev.atmsae.eval.synth.SynthFiles;
import dev.atmsae.eval.synth.SynthGenerator;
import dev.atmsae.eval.synth.SynthReportWriter;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.train.Checkpoint;
import dev.atmsae.train.Trainer;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs a {@link SweepSpec}: trains every (architecture, L0 target, seed) SAE, evaluates it, and writes one
 * {@code result.json} per run plus {@code sweep.json} with all of them. A run whose {@code result.json} already
 * exists is not trained again, so an interrupted sweep continues where it stopped; a run that left a checkpoint
 * continues from it.
 *
 * <p>The same sweep runs as separate processes too (a cluster's job array): {@link #plan()} writes every run into
 * {@code plan.json}, {@link #runTask} trains and evaluates one run of it, and {@link #merge} writes {@code sweep.json}
 * from the runs that finished. A local {@link #run()} is exactly plan, every task, merge, so both give the same bytes.
 */
public final class Sweep {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Test hook: milliseconds every training step of a run started by {@link #runTask} waits, so that a test can
     * signal a task reliably mid-training. Unset (the default) waits nothing.
     */
    public static final String STEP_DELAY_PROPERTY = "atmsae.test.stepDelayMillis";

    /** The stage name of a sweep's runs in its plan. */
    public static final String STAGE = "sweep";

    private final SweepSpec spec;
    private final Supplier<Engine> engines;
    private final PrintStream log;
    private final int parallelRuns;
    private long checkpointEvery;
    private Inputs inputs;

    public Sweep(SweepSpec spec, Supplier<Engine> engines, PrintStream log) {
        this(spec, engines, log, 1);
    }

    /**
     * With {@code parallelRuns} &gt; 1, that many runs train and evaluate at once, each on its own engine from
     * {@code engines} (give them fewer threads, e.g. one each on two cores); with 1, run i is evaluated while run i + 1
     * trains. Either way every result is the one a sequential sweep computes.
     */
    public Sweep(SweepSpec spec, Supplier<Engine> engines, PrintStream log, int parallelRuns) {
        if (parallelRuns < 1) {
            throw new UserError("--parallel-runs must be ≥ 1, got " + parallelRuns);
        }
        this.spec = spec;
        this.engines = engines;
        this.log = log;
        this.parallelRuns = parallelRuns;
    }

    /**
     * Also writes a checkpoint every {@code steps} training steps (0, the default: only when a task is asked to stop),
     * so that a run killed without warning loses at most that many steps. Results do not depend on it.
     */
    public Sweep withCheckpointEvery(long steps) {
        if (steps < 0) {
            throw new UserError("--checkpoint-every must be ≥ 0, got " + steps);
        }
        this.checkpointEvery = steps;
        return this;
    }

    public SweepSpec spec() {
        return spec;
    }

    /** Every run in sweep order (architecture, then L0 target, then seed), each in OUT/runs/NAME. */
    public List<PlannedRun> plannedRuns() {
        List<PlannedRun> runs = new ArrayList<>();
        for (ArchKind arch : spec.archs()) {
            for (double l0 : spec.targetL0s()) {
                for (long seed : spec.seeds()) {
                    String name = SweepSpec.runName(arch, l0, seed);
                    runs.add(new PlannedRun(runs.size(), name, arch.id(), spec.out().resolve("runs").resolve(name), l0,
                            configFor(arch, l0, seed)));
                }
            }
        }
        return runs;
    }

    /** This sweep's plan: every run of {@link #plannedRuns()} as the single stage {@value #STAGE}. */
    public Plan plan() {
        return Plan.of(STAGE, spec.toPlanMap(), Map.of(), Map.of(STAGE, plannedRuns()));
    }

    /**
     * Trains and evaluates every run; returns the per-run results in sweep order. With one run at a time, run i is
     * evaluated on a second thread while run i + 1 trains: training and evaluation each leave part of the machine idle
     * (serial set-up, file I/O, the tail of a parallel loop), and the two fill each other's gaps. Every result is computed exactly as in
     * sequence — each phase has its own engine and no shared mutable state but the probe caches, which are
     * deterministic — only the wall clock changes.
     */
    public List<RunResult> run() {
        plan().claim(spec.out());
        List<PlannedRun> planned = plannedRuns();
        List<Future<RunResult>> results = new ArrayList<>();
        ExecutorService evaluator = Executors.newFixedThreadPool(parallelRuns,
                r -> {
                    Thread t = new Thread(r, "atmsae-sweep-run");
                    t.setDaemon(true);
                    return t;
                });
        try {
            for (PlannedRun run : planned) {
                String label = "[" + (run.task() + 1) + "/" + planned.size() + "] ";
                RunResult done = reusedOrRecorded(run, label);
                if (done != null) {
                    results.add(CompletableFuture.completedFuture(done));
                } else if (parallelRuns == 1) {
                    Trained trained = trainOrFail(run, StopRequest.NONE);
                    results.add(evaluator.submit(() -> evaluateAndWrite(trained)));
                } else {
                    results.add(evaluator.submit(() -> evaluateAndWrite(trainOrFail(run, StopRequest.NONE))));
                }
            }
            List<RunResult> all = new ArrayList<>();
            for (Future<RunResult> f : results) {
                all.add(await(f));
            }
            writeSweepJson(all, List.of());
            return all;
        } finally {
            evaluator.shutdown();
            try {
                // a failed training still lets the runs trained before it finish their evaluation (and result.json)
                evaluator.awaitTermination(1, TimeUnit.HOURS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Writes sweep.json: the spec, every finished run and the aggregate; runs that did not finish are named. */
    private void writeSweepJson(List<RunResult> finished, List<String> unfinished) {
        Map<String, Object> sweep = new LinkedHashMap<>();
        sweep.put("spec", spec.describe());
        sweep.put("runs", finished.stream().map(RunResult::toMap).toList());
        sweep.put("aggregate", Aggregate.of(finished).stream().map(Aggregate::toMap).toList());
        if (!unfinished.isEmpty()) {
            sweep.put("unfinished", unfinished);
        }
        write(spec.out().resolve("sweep.json"), sweep);
    }

    /**
     * What {@link #merge} found: the finished runs in plan order (written to sweep.json), and the runs that have no
     * result, each with why (failed: its one line; else pending or running).
     */
    public record Merged(List<RunResult> finished, Map<String, String> unfinished) {
    }

    /**
     * Writes sweep.json from the runs of {@code plan} that finished, in plan order, and names those that did not. No
     * finished run at all is a one-line error (there is nothing to report).
     */
    public Merged merge(Plan plan) {
        List<RunResult> finished = new ArrayList<>();
        Map<String, String> unfinished = new LinkedHashMap<>();
        for (int i = 0; i < plan.size(STAGE); i++) {
            String name = plan.runName(STAGE, i);
            try {
                PlannedRun run = plan.run(STAGE, i);
                Optional<RunResult> done = finished(run.config(), run.dir());
                if (done.isPresent()) {
                    finished.add(done.get());
                } else {
                    unfinished.put(name, whyUnfinished(name));
                }
            } catch (UserError e) {
                unfinished.put(name, "failed: " + e.getMessage());
            }
        }
        if (finished.isEmpty()) {
            throw UserError.inFile(plan.file(), "no run has finished yet, so there is nothing to merge ("
                    + unfinished.size() + " unfinished; first: " + unfinished.entrySet().iterator().next() + ")");
        }
        writeSweepJson(finished, List.copyOf(unfinished.keySet()));
        return new Merged(finished, unfinished);
    }

    /** Why a run has no result, from its task record: "failed: ...", "stopped: ...", "running" or "pending". */
    public String whyUnfinished(String name) {
        return TaskRecord.read(spec.out(), name).map(r -> r.message() == null ? r.state()
                : r.state() + ": " + r.message()).orElse("pending");
    }

    /** How a task ended. */
    public enum TaskState {
        /** an earlier task had finished the run; it was kept as it is */
        REUSED,
        /** trained and evaluated now */
        FINISHED,
        /** asked to stop (a signal): a checkpoint was written and the run continues when the task runs again */
        STOPPED
    }

    /** A task's outcome; {@code result} is null when stopped. */
    public record TaskOutcome(TaskState state, RunResult result, String message) {
    }

    /** Where a task's stop request comes from: the reason once one arrived ("SIGTERM"), else null. */
    @FunctionalInterface
    public interface StopRequest {
        /** Never asks to stop. */
        StopRequest NONE = () -> null;

        String reason();
    }

    /**
     * Runs one planned run as a task: kept as it is when an earlier task finished it, continued from its checkpoint
     * when one stopped it, else trained from the start; then evaluated. The task's state goes to its
     * {@link TaskRecord}; a failure is recorded there (its one line) and rethrown. When {@code stop} reports a reason
     * mid-training, the run writes a checkpoint at the next step and the task ends {@link TaskState#STOPPED}.
     */
    public TaskOutcome runTask(PlannedRun run, String label, StopRequest stop) {
        RunResult done = recordingFailure(run, () -> reusedOrRecorded(run, label));
        if (done != null) {
            return new TaskOutcome(TaskState.REUSED, done, null);
        }
        Trained trained = recordingFailure(run, () -> train(run, stop));
        if (trained.stopped() != null) {
            String message = trained.stopped();
            TaskRecord.now(TaskRecord.STOPPED, message).write(spec.out(), run.name());
            say("%s%s: %s", label, run.name(), message);
            return new TaskOutcome(TaskState.STOPPED, null, message);
        }
        return new TaskOutcome(TaskState.FINISHED, evaluateAndWrite(trained), null);
    }

    /**
     * Runs task {@code index} of a stage of {@code plan} (see {@link #runTask}). Its plan entry is read here: a broken
     * one (a bad setting) fails this task alone, recorded like any other failure.
     */
    public TaskOutcome runPlanned(Plan plan, String stage, int index, String label, StopRequest stop) {
        PlannedRun run;
        try {
            run = plan.run(stage, index);
        } catch (UserError e) {
            if (index >= 0 && index < plan.size(stage)) {
                TaskRecord.now(TaskRecord.FAILED, e.getMessage()).write(spec.out(), plan.runName(stage, index));
            }
            throw e;
        }
        return runTask(run, label, stop);
    }

    /** Runs {@code work} for a run; a failure is recorded in the run's {@link TaskRecord} (its one line), then rethrown. */
    private <T> T recordingFailure(PlannedRun run, Supplier<T> work) {
        try {
            return work.get();
        } catch (RuntimeException e) {
            String why = e instanceof UserError ? e.getMessage() : "internal error: " + e;
            TaskRecord.now(TaskRecord.FAILED, why).write(spec.out(), run.name());
            throw e;
        }
    }

    private RunResult evaluateAndWrite(Trained trained) {
        RunResult r = recordingFailure(trained.run(), () -> evaluate(trained));
        write(trained.run().dir().resolve("result.json"), r.toMap());
        deleteCheckpoint(trained.run().dir());
        TaskRecord.now(TaskRecord.DONE, null).write(spec.out(), trained.run().name());
        return r;
    }

    /** A finished run needs no checkpoint: dropping it leaves the run directory as an uninterrupted run leaves it. */
    private static void deleteCheckpoint(Path runDir) {
        Path dir = Checkpoint.dirOf(runDir);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw UserError.inFile(dir, "cannot remove the finished run's checkpoint: " + e.getMessage());
        }
    }

    /** The result of an evaluation, its failure rethrown as it was thrown (a UserError stays one line). */
    private static RunResult await(Future<RunResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sweep interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * The result of the run in its directory if an earlier invocation finished it; else null, once the run about to
     * train is announced and its configuration written beside it.
     */
    private RunResult reusedOrRecorded(PlannedRun run, String label) {
        Path dir = run.dir();
        Optional<RunResult> done = finished(run.config(), dir);
        if (done.isPresent()) {
            say("%s%s: done before, reusing %s", label, dir.getFileName(), dir.resolve("result.json"));
            return done.get();
        }
        say("%s%s: %s", label, dir.getFileName(), Checkpoint.exists(dir) ? "continuing from its checkpoint"
                : "training");
        TaskRecord.now(TaskRecord.RUNNING, null).write(spec.out(), run.name());
        write(dir.resolve("train_config.json"), run.config().toMap());
        return null;
    }

    /**
     * The result of the run in {@code dir} if it finished (result.json present); a finished run trained with another
     * configuration (train_config.json beside it) is a one-line error.
     */
    public Optional<RunResult> finished(TrainConfig config, Path dir) {
        Path resultFile = dir.resolve("result.json");
        Path configFile = dir.resolve("train_config.json");
        if (!Files.exists(resultFile)) {
            return Optional.empty();
        }
        if (Files.exists(configFile) && !TrainConfig.fromMap(readJson(configFile)).equals(config)) {
            throw UserError.inFile(configFile, "this finished run was trained with another configuration; "
                    + "delete " + dir + " or choose another output directory");
        }
        return Optional.of(RunResult.read(resultFile));
    }

    private static Map<String, Object> readJson(Path file) {
        try {
            return JSON.readValue(Files.readString(file),
                    new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw UserError.inFile(file, "unreadable JSON: " + e.getMessage());
        }
    }

    /** Probe set, its caches and the truth set: read once, on the first run that needs them. */
    private synchronized Inputs inputs() {
        if (inputs == null) {
            ProbeSet probeSet = spec.probeSet() == null ? null : ProbeSets.read(spec.probeSet());
            Probes probes = probeSet == null ? null
                    : new Probes(AbsorptionEval.ProbeCache.storedIn(probeSet, spec.probeSet()),
                            new SparseProbing.RawCache(probeSet, SparseProbing.DEFAULT_KS));
            SynthGenerator truth = spec.truth() == null ? null : SynthFiles.readTruth(spec.truth());
            inputs = new Inputs(probeSet, probes, truth);
        }
        return inputs;
    }

    private record Inputs(ProbeSet probeSet, Probes probes, SynthGenerator truth) {
    }

    /** What training leaves for the evaluation of a run; {@code stopped} says where a stopped run stands. */
    private record Trained(PlannedRun run, Map<String, Object> summary, String stopped) {
    }

    /** Trains a run that must complete (no stop request can reach it). */
    private Trained trainOrFail(PlannedRun run, StopRequest stop) {
        Trained t = recordingFailure(run, () -> train(run, stop));
        if (t.stopped() != null) {
            throw new UserError("sweep: run " + run.dir() + " stopped early (" + t.stopped() + ")");
        }
        return t;
    }

    /**
     * Trains a run, continuing from the checkpoint in its directory when there is one (bitwise as if it had never
     * stopped). Stops with a checkpoint at the next step once {@code stop} gives a reason.
     */
    private Trained train(PlannedRun run, StopRequest stop) {
        TrainConfig config = run.config();
        Path dir = run.dir();
        long seed = config.seed();
        Checkpoint.State resume = null;
        if (Checkpoint.exists(dir)) {
            resume = Checkpoint.read(dir);
            if (!TrainConfig.fromMap(resume.config()).equals(config)) {
                throw UserError.inFile(Checkpoint.dirOf(dir), "this checkpoint is of another configuration than the "
                        + "planned run; delete " + dir + " to train it afresh");
            }
        }
        Map<String, Object> metadata = new LinkedHashMap<>(spec.metadata());
        metadata.putIfAbsent("dataset_path", spec.data().toString());
        ActivationLoader.Options loader = ActivationLoader.Options.defaults(config.batchSize()).withSeed(seed);
        Trainer.DataSource source = start -> ActivationLoader.open(spec.data(), loader.withStartBatch(start));
        Trainer.Options options = Trainer.Options.defaults(dir, spec.tokens()).withQuiet(spec.quiet())
                .withMetricsEvery(Math.max(1, (int) (Trainer.stepsFor(spec.tokens(), config.batchSize()) / 100)))
                .withCheckpointEvery(checkpointEvery).withMetadata(metadata).withProgress(log);
        long stepDelay = Long.getLong(STEP_DELAY_PROPERTY, 0L);
        long t0 = System.nanoTime();
        try (Engine engine = engines.get()) {
            Trainer trainer = new Trainer(engine, config, source, options);
            trainer.withStepListener((step, total, metrics, tokensPerSecond) -> {
                String reason = stop.reason();
                if (reason != null) {
                    trainer.requestStop(reason);
                }
                if (stepDelay > 0) {
                    sleep(stepDelay);
                }
            });
            Trainer.Result trained = trainer.run(resume);
            if (!trained.completed()) {
                return new Trained(run, null, String.format(java.util.Locale.ROOT,
                        "stopped by %s at step %d of %d; the checkpoint in %s continues it", trained.stopReason(),
                        trained.step(), trained.totalSteps(), Checkpoint.dirOf(dir)));
            }
            Map<String, Object> trainSummary = new LinkedHashMap<>();
            trainSummary.put("seconds", (System.nanoTime() - t0) / 1e9);
            trainSummary.put("final_sparsity_coeff", trained.summary().get("final_sparsity_coeff"));
            trainSummary.put("tokens_per_s", trained.summary().get("tokens_per_s"));
            trainSummary.put("stall_fraction", trained.summary().get("stall_fraction"));
            trainSummary.put("engine", engine.describe());
            return new Trained(run, trainSummary, null);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private RunResult evaluate(Trained trained) {
        PlannedRun run = trained.run();
        Path dir = run.dir();
        ProbeSet probeSet = inputs().probeSet();
        Probes probes = inputs().probes();
        SynthGenerator truth = inputs().truth();
        try (Engine engine = engines.get()) {
            SaeWeights weights = SaeLoader.read(dir);
            Path evalPath = spec.evalData() == null ? spec.data() : spec.evalData();
            ActivationLoader.Options evalLoader = ActivationLoader.Options.defaults(run.config().batchSize())
                    .withShuffle(false);
            SaeEvaluator.Outcome eval = SaeEvaluator.evaluate(engine, weights, ActivationLoader.open(evalPath, evalLoader),
                    spec.evalTokens());
            Map<String, Object> core = eval.metrics().result();
            write(dir.resolve("eval.json"), core);

            Map<String, Object> absorption = null;
            Map<String, Object> sparseProbing = null;
            if (probeSet != null) {
                SaeForward.Codes codes = EngineCodes.encode(engine, weights, probeSet.acts(), probeSet.n());
                AbsorptionReport report = AbsorptionEval.run(probeSet, weights, codes, AbsorptionOptions.defaults(),
                        probes.groundTruth());
                SparseProbing.Report sparse = SparseProbing.run(probeSet, codes, SparseProbing.DEFAULT_KS,
                        probes.raw());
                AtomicFiles.writeString(dir.resolve("absorption.json"), ReportWriter.json(report, sparse));
                AtomicFiles.writeString(dir.resolve("absorption.md"), ReportWriter.markdown(report, sparse));
                absorption = summarize(report);
                sparseProbing = summarize(sparse);
            }
            Map<String, Object> truthSummary = null;
            if (truth != null) {
                SynthAbsorption.Report report = SynthAbsorption.run(truth, weights);
                AtomicFiles.writeString(dir.resolve("truth.json"), SynthReportWriter.json(report));
                truthSummary = summarize(report);
            }
            Map<String, Object> trainSummary = new LinkedHashMap<>(trained.summary());
            double masked = MaskActivity.maskedCodeFraction(dir.resolve("metrics.jsonl"));
            trainSummary.put("masked_code_fraction", Double.isFinite(masked) ? masked : null);
            return new RunResult(run.config().arch().id(), run.targetL0(), run.seed(), dir.toString(), core,
                    absorption, sparseProbing, truthSummary, trainSummary);
        }
    }

    /** What depends on the probe set alone, fitted once per sweep and shared by every SAE. */
    private record Probes(AbsorptionEval.ProbeCache groundTruth, SparseProbing.RawCache raw) {
    }

    /** The run's TrainConfig: the sweep's overrides, then width/batch/seed and the L0 target in the arch's own terms. */
    TrainConfig configFor(ArchKind arch, double l0, long seed) {
        return configFor(spec.overrides(), arch, spec.width(), spec.batch(), l0, seed);
    }

    /**
     * A run's TrainConfig from overrides ("key" for every architecture, "arch:key" for one, which wins), then arch,
     * width, batch and seed, then the L0 target in the mechanism's own terms: target_l0 where a coefficient sets L0
     * (relu, atm, jumprelu and ATM on relu/jumprelu), k where k does (topk, batchtopk and ATM on them).
     */
    public static TrainConfig configFor(Map<String, Object> overrides, ArchKind arch, int width, int batch, double l0,
                                        long seed) {
        Map<String, Object> m = new LinkedHashMap<>(); // fromMap starts from the defaults (ATM: of its atm_base)
        overrides.forEach((key, value) -> {
            if (!key.contains(":")) {
                m.put(key, value);
            }
        });
        overrides.forEach((key, value) -> {
            int colon = key.indexOf(':');
            if (colon > 0 && ArchKind.parse(key.substring(0, colon)) == arch) {
                m.put(key.substring(colon + 1), value);
            }
        });
        m.put("arch", arch.id());
        m.put("width", width);
        m.put("batch_size", batch);
        m.put("seed", seed);
        if (TrainConfig.sparsityKindOf(m).coefficientControlled()) {
            m.put("target_l0", l0);
            m.put("k", Math.min(width, Math.max(1, (int) Math.round(l0))));
        } else {
            m.put("k", (int) Math.round(l0));
            m.remove("target_l0");
        }
        return TrainConfig.fromMap(m);
    }

    static Map<String, Object> summarize(AbsorptionReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rule_version", r.ruleVersion());
        m.put("valid", r.valid());
        m.put("classes_kept", r.classesKept());
        m.put("absorption_fraction", r.meanAbsorptionFraction());
        m.put("absorption_fraction_legacy", r.meanAbsorptionFractionLegacy());
        m.put("full_absorption", r.meanFullAbsorption());
        m.put("paper_score", r.meanAbsorptionScore());
        m.put("num_split_features", r.meanNumSplitFeatures());
        Map<String, Object> perClass = new LinkedHashMap<>();
        Map<String, Object> perClassFull = new LinkedHashMap<>();
        for (AbsorptionReport.ClassResult c : r.classes()) {
            if (c.kept()) {
                perClass.put(c.name(), c.absorptionFraction());
                perClassFull.put(c.name(), c.fullAbsorption());
            }
        }
        m.put("per_class_fraction", perClass);
        m.put("per_class_full", perClassFull);
        return m;
    }

    static Map<String, Object> summarize(SparseProbing.Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        // Lists, not arrays: the same shape whether the result was just computed or read back from result.json.
        m.put("ks", Arrays.stream(r.ks()).boxed().toList());
        m.put("sae_accuracy", Arrays.stream(r.meanSaeAccuracy()).boxed().toList());
        m.put("raw_accuracy", Arrays.stream(r.meanRawAccuracy()).boxed().toList());
        return m;
    }

    static Map<String, Object> summarize(SynthAbsorption.Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rule_version", r.ruleVersion());
        m.put("absorption_fraction", r.meanAbsorptionFraction());
        m.put("absorption_fraction_legacy", r.meanAbsorptionFractionLegacy());
        m.put("full_absorption", r.meanFullAbsorption());
        m.put("paper_score", r.meanFullAbsorption());
        m.put("silent_given_child", r.meanSilentGivenChild());
        m.put("silent_given_no_child", r.meanSilentGivenNoChild());
        // the same rules with main = {argmax cos(d_i, f_P)}, and the cosines that explain where the two disagree
        m.put("full_absorption_cos", r.meanFullAbsorptionCos());
        m.put("absorption_fraction_cos", r.meanAbsorptionFractionCos());
        m.put("num_split_features", r.meanNumSplitFeatures());
        m.put("parent_latent_cos", r.meanParentLatentCos());
        m.put("child_latent_cos_with_parent", r.meanChildLatentCosWithParent());
        m.put("parent_latent_cos_with_children", r.meanParentLatentCosWithChildren());
        m.put("mmcs", r.mmcs());
        m.put("mcc", r.mcc());
        // per tree root: the units a study bootstraps over (absorption lies in [0, 1], so do their means)
        Map<String, Object> perTreeFull = new LinkedHashMap<>();
        Map<String, Object> perTreeFraction = new LinkedHashMap<>();
        for (SynthAbsorption.TreeResult t : r.trees()) {
            if (Double.isFinite(t.full()) && Double.isFinite(t.fraction())) {
                perTreeFull.put(t.root(), t.full());
                perTreeFraction.put(t.root(), t.fraction());
            }
        }
        m.put("per_tree_full", perTreeFull);
        m.put("per_tree_fraction", perTreeFraction);
        return m;
    }

    private void say(String format, Object... args) {
        if (!spec.quiet()) {
            log.println("atmsae sweep: " + String.format(format, args));
        }
    }

    /** Writes {@code value} as indented JSON, atomically (AtomicFiles creates missing directories). */
    static void write(Path file, Object value) {
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(value));
        } catch (IOException e) {
            throw new UserError(file + ": cannot write JSON: " + e.getMessage(), e);
        }
    }
}
