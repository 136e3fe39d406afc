package dev.atmsae.study;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.eval.synth.SynthConfig;
import dev.atmsae.eval.synth.SynthFiles;
import dev.atmsae.sweep.Sweep;
import dev.atmsae.sweep.SweepSpec;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.util.UserError;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs a {@link StudySpec}: (1) screening — every configuration at one L0 and one seed; (2) selection — the best
 * {@code confirm.top} ATM configurations by their win margin against TopK ({@link StudyAnalysis}); (3) confirmation —
 * the selected ATM configurations and every baseline at each L0 target × seed, seed by seed. Without a screen stage
 * every ATM configuration is confirmed. Runs go through {@link Sweep#runOrReuse}, one directory per (configuration,
 * L0, seed) under OUT/runs, so a killed study reruns only what had not finished (a screening run that coincides with
 * a confirmation run is trained once). Synthetic data is generated once into OUT/data.
 */
public final class Study {
    /** Relative L0 miss above which a run is flagged and excluded from matched comparisons. */
    public static final double L0_TOLERANCE = 0.10;

    private final StudySpec spec;
    private final Path out;
    private final Supplier<Engine> engines;
    private final PrintStream log;
    private final boolean quiet;
    private final boolean reportOnly;

    public Study(StudySpec spec, Path out, Supplier<Engine> engines, PrintStream log, boolean quiet) {
        this(spec, out, engines, log, quiet, false);
    }

    /**
     * @param reportOnly train nothing: analyse the runs that have finished (an interim report of a study still
     *                   running elsewhere, or one stopped for the day); missing runs are left out and counted
     */
    public Study(StudySpec spec, Path out, Supplier<Engine> engines, PrintStream log, boolean quiet,
                 boolean reportOnly) {
        this.spec = spec;
        this.out = out;
        this.engines = engines;
        this.log = log;
        this.quiet = quiet;
        this.reportOnly = reportOnly;
    }

    /** Everything a study produced: configurations, runs per stage, the screening selection and the analysis. */
    public record Outcome(List<Candidate> candidates, List<StudyRun> screenRuns, List<Candidate> selected,
                          List<StudyRun> confirmRuns, StudyAnalysis analysis, int missingRuns) {
    }

    public Outcome run() {
        List<Candidate> candidates = Candidates.expand(spec);
        Sweep sweep = new Sweep(sweepSpec(), engines, log);
        List<StudyRun> screenRuns = new ArrayList<>();
        List<Candidate> atm = candidates.stream().filter(Candidate::isAtm).toList();
        List<Candidate> baselines = candidates.stream().filter(c -> !c.isAtm()).toList();
        List<Candidate> selected = atm;
        if (spec.screen() != null) {
            int i = 0;
            for (Candidate c : candidates) {
                i++;
                addIfRun(screenRuns, train(sweep, c, "screen", spec.screen().l0(), spec.screen().seed(),
                        "screen " + i + "/" + candidates.size()));
            }
            selected = StudyAnalysis.select(screenRuns, spec.confirm().top(), spec.absorption(),
                    spec.winAgainst());
            say("screening selected " + selected.stream().map(Candidate::name).toList());
        }
        List<Candidate> confirmed = new ArrayList<>(baselines);
        confirmed.addAll(selected);
        List<StudyRun> confirmRuns = new ArrayList<>();
        int total = confirmed.size() * spec.confirm().l0s().size() * spec.confirm().seeds().size();
        int i = 0;
        // seed by seed: an interrupted study holds every configuration at the seeds it finished, not some
        // configurations at every seed and others at none
        for (long seed : spec.confirm().seeds()) {
            for (double l0 : spec.confirm().l0s()) {
                for (Candidate c : confirmed) {
                    i++;
                    addIfRun(confirmRuns, train(sweep, c, "confirm", l0, seed, "confirm " + i + "/" + total));
                }
            }
        }
        int planned = (spec.screen() == null ? 0 : candidates.size()) + total;
        int missing = planned - screenRuns.size() - confirmRuns.size();
        if (missing > 0) {
            say(missing + " run(s) not finished yet are left out of this report");
        }
        StudyAnalysis analysis = StudyAnalysis.of(spec, candidates, screenRuns, confirmRuns);
        return new Outcome(candidates, screenRuns, selected, confirmRuns, analysis, missing);
    }

    /** Adds a run; null = not finished (report-only), counted as missing by what was planned. */
    private static void addIfRun(List<StudyRun> runs, StudyRun run) {
        if (run != null) {
            runs.add(run);
        }
    }

    private StudyRun train(Sweep sweep, Candidate c, String stage, double l0, long seed, String label) {
        TrainConfig config = configFor(c, l0, seed);
        String l0Name = l0 == Math.rint(l0) ? Long.toString((long) l0) : Double.toString(l0);
        Path dir = out.resolve("runs").resolve(c.name() + "-l0_" + l0Name + "-s" + seed);
        if (reportOnly) {
            return sweep.finished(config, dir).map(r -> new StudyRun(c, stage, l0, seed, r)).orElse(null);
        }
        return new StudyRun(c, stage, l0, seed, sweep.runOrReuse(config, l0, dir, label + " "));
    }

    /** The study's common keys, then the configuration's own (which win), then width, batch, seed and the L0 target. */
    TrainConfig configFor(Candidate c, double l0, long seed) {
        Map<String, Object> overrides = new LinkedHashMap<>(spec.common());
        c.keys().forEach((k, v) -> overrides.put(c.arch() + ":" + k, v));
        return Sweep.configFor(overrides, ArchKind.parse(c.arch()), spec.width(), spec.batch(), l0, seed);
    }

    private SweepSpec sweepSpec() {
        Path shards = spec.data().shards();
        Path truth = null;
        Path probeSet = spec.data().probeSet();
        if (spec.data().synth() != null) {
            Path dataDir = out.resolve("data");
            SynthConfig cfg = synthConfig(spec.data().synth());
            if (!Files.exists(dataDir.resolve("truth"))) {
                say("generating synthetic data (" + cfg.tokens() + " tokens, d = " + cfg.d() + ") into " + dataDir);
                SynthFiles.write(dataDir, cfg);
            }
            shards = dataDir.resolve("shards");
            truth = dataDir.resolve("truth");
        }
        LinkedHashSet<Double> l0s = new LinkedHashSet<>(spec.confirm().l0s());
        LinkedHashSet<Long> seeds = new LinkedHashSet<>(spec.confirm().seeds());
        if (spec.screen() != null) {
            l0s.add(spec.screen().l0());
            seeds.add(spec.screen().seed());
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("study", spec.name());
        return new SweepSpec(shards, spec.data().evalShards(), List.of(ArchKind.ATM), new ArrayList<>(l0s),
                new ArrayList<>(seeds), spec.width(), spec.tokens(), spec.batch(), spec.evalTokens(), probeSet, truth,
                out, "cpu", null, Map.of(), metadata, quiet);
    }

    /** SynthConfig from the study's snake_case keys over {@link SynthConfig#defaults()}. */
    static SynthConfig synthConfig(Map<String, Object> keys) {
        try {
            return SynthConfig.fromMap(keys);
        } catch (UserError e) {
            throw new UserError("study config: data." + e.getMessage());
        }
    }

    private void say(String s) {
        if (!quiet) {
            log.println("atmsae study: " + s);
        }
    }
}
