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
 * exists is not trained again, so an interrupted sweep continues where it stopped.
 */
public final class Sweep {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final SweepSpec spec;
    private final Supplier<Engine> engines;
    private final PrintStream log;
    private final int parallelRuns;
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
     * Trains and evaluates every run; returns the per-run results in sweep order. With one run at a time, run i is
     * evaluated on a second thread while run i + 1 trains: training and evaluation each leave part of the machine idle
     * (serial set-up, file I/O, the tail of a parallel loop), and the two fill each other's gaps. Every result is computed exactly as in
     * sequence — each phase has its own engine and no shared mutable state but the probe caches, which are
     * deterministic — only the wall clock changes.
     */
    public List<RunResult> run() {
        List<Future<RunResult>> results = new ArrayList<>();
        int total = spec.archs().size() * spec.targetL0s().size() * spec.seeds().size();
        int index = 0;
        ExecutorService evaluator = Executors.newFixedThreadPool(parallelRuns,
                r -> {
                    Thread t = new Thread(r, "atmsae-sweep-run");
                    t.setDaemon(true);
                    return t;
                });
        try {
            for (ArchKind arch : spec.archs()) {
                for (double l0 : spec.targetL0s()) {
                    for (long seed : spec.seeds()) {
                        index++;
                        Path dir = spec.out().resolve("runs").resolve(SweepSpec.runName(arch, l0, seed));
                        String label = "[" + index + "/" + total + "] ";
                        TrainConfig config = configFor(arch, l0, seed);
                        RunResult done = reusedOrRecorded(config, dir, label);
                        if (done != null) {
                            results.add(CompletableFuture.completedFuture(done));
                        } else if (parallelRuns == 1) {
                            Trained trained = train(config, l0, dir);
                            results.add(evaluator.submit(() -> evaluateAndWrite(trained)));
                        } else {
                            results.add(evaluator.submit(() -> evaluateAndWrite(train(config, l0, dir))));
                        }
                    }
                }
            }
            List<RunResult> all = new ArrayList<>();
            for (Future<RunResult> f : results) {
                all.add(await(f));
            }
            Map<String, Object> sweep = new LinkedHashMap<>();
            sweep.put("spec", describe());
            sweep.put("runs", all.stream().map(RunResult::toMap).toList());
            sweep.put("aggregate", Aggregate.of(all).stream().map(Aggregate::toMap).toList());
            write(spec.out().resolve("sweep.json"), sweep);
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

    private RunResult evaluateAndWrite(Trained trained) {
        RunResult r = evaluate(trained);
        write(trained.dir().resolve("result.json"), r.toMap());
        return r;
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
     * One run of {@code config} (L0 target {@code l0}) into {@code dir} on the spec's data and evaluation sets: read
     * from {@code dir/result.json} when an earlier invocation finished it, else trained, evaluated and written there
     * (a run killed before its result.json restarts). A reused run must have been trained with the same
     * configuration (train_config.json beside it).
     */
    public RunResult runOrReuse(TrainConfig config, double l0, Path dir, String label) {
        RunResult done = reusedOrRecorded(config, dir, label);
        return done != null ? done : evaluateAndWrite(train(config, l0, dir));
    }

    /**
     * The result of the run in {@code dir} if an earlier invocation finished it; else null, once the run about to
     * train is announced and its configuration written beside it.
     */
    private RunResult reusedOrRecorded(TrainConfig config, Path dir, String label) {
        Optional<RunResult> done = finished(config, dir);
        if (done.isPresent()) {
            say("%s%s: done before, reusing %s", label, dir.getFileName(), dir.resolve("result.json"));
            return done.get();
        }
        say("%s%s: training", label, dir.getFileName());
        write(dir.resolve("train_config.json"), config.toMap());
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

    /** What training leaves for the evaluation of a run. */
    private record Trained(TrainConfig config, double l0, Path dir, Map<String, Object> summary) {
    }

    private Trained train(TrainConfig config, double l0, Path dir) {
        long seed = config.seed();
        Map<String, Object> metadata = new LinkedHashMap<>(spec.metadata());
        metadata.putIfAbsent("dataset_path", spec.data().toString());
        ActivationLoader.Options loader = ActivationLoader.Options.defaults(config.batchSize()).withSeed(seed);
        Trainer.DataSource source = start -> ActivationLoader.open(spec.data(), loader.withStartBatch(start));
        Trainer.Options options = Trainer.Options.defaults(dir, spec.tokens()).withQuiet(spec.quiet())
                .withMetricsEvery(Math.max(1, (int) (Trainer.stepsFor(spec.tokens(), config.batchSize()) / 100)))
                .withMetadata(metadata).withProgress(log);
        long t0 = System.nanoTime();
        try (Engine engine = engines.get()) {
            Trainer.Result trained = new Trainer(engine, config, source, options).run();
            if (!trained.completed()) {
                throw new UserError("sweep: run " + dir + " stopped early (" + trained.stopReason() + ")");
            }
            Map<String, Object> trainSummary = new LinkedHashMap<>();
            trainSummary.put("seconds", (System.nanoTime() - t0) / 1e9);
            trainSummary.put("final_sparsity_coeff", trained.summary().get("final_sparsity_coeff"));
            trainSummary.put("tokens_per_s", trained.summary().get("tokens_per_s"));
            trainSummary.put("stall_fraction", trained.summary().get("stall_fraction"));
            trainSummary.put("engine", engine.describe());
            return new Trained(config, l0, dir, trainSummary);
        }
    }

    private RunResult evaluate(Trained run) {
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
            Map<String, Object> trainSummary = new LinkedHashMap<>(run.summary());
            double masked = MaskActivity.maskedCodeFraction(dir.resolve("metrics.jsonl"));
            trainSummary.put("masked_code_fraction", Double.isFinite(masked) ? masked : null);
            return new RunResult(run.config().arch().id(), run.l0(), run.config().seed(), dir.toString(), core,
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

    private Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("data", spec.data().toString());
        d.put("eval_data", spec.evalData() == null ? null : spec.evalData().toString());
        d.put("archs", spec.archs().stream().map(ArchKind::id).toList());
        d.put("target_l0s", spec.targetL0s());
        d.put("seeds", spec.seeds());
        d.put("width", spec.width());
        d.put("tokens", spec.tokens());
        d.put("batch", spec.batch());
        d.put("eval_tokens", spec.evalTokens());
        d.put("probe_set", spec.probeSet() == null ? null : spec.probeSet().toString());
        d.put("truth", spec.truth() == null ? null : spec.truth().toString());
        d.put("overrides", spec.overrides());
        return d;
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
