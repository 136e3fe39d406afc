package dev.atmsae.study;

import dev.atmsae.core.ArchKind;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.engine.Engine;
import dev.atmsae.eval.synth.SynthFiles;
import dev.atmsae.sweep.PlannedRun;
import dev.atmsae.sweep.Sweep;
import dev.atmsae.sweep.SweepSpec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs a {@link RegimeMapSpec}: per regime its data (generated once into OUT/data/REGIME when a run has to train),
 * then every width × L0 ×
 * method × seed through {@link Sweep#runTask} into OUT/runs/REGIME/METHOD-wWIDTH-kK-sSEED, so a killed map reruns
 * only what had not finished. Widths and L0 targets that round to the same whole number are run once. The cells are
 * {@link StudyAnalysis} cells of one (regime, width) each, so their intervals and readings are a study's.
 */
public final class RegimeMap {
    private final RegimeMapSpec spec;
    private final Path out;
    private final Supplier<Engine> engines;
    private final PrintStream log;
    private final boolean quiet;
    private final boolean reportOnly;

    public RegimeMap(RegimeMapSpec spec, Path out, Supplier<Engine> engines, PrintStream log, boolean quiet,
                     boolean reportOnly) {
        this.spec = spec;
        this.out = out;
        this.engines = engines;
        this.log = log;
        this.quiet = quiet;
        this.reportOnly = reportOnly;
    }

    /** One (regime, width factor, L0 factor, method) of the map: its study cell (over the seeds) and its setting. */
    public record MapCell(RegimeMapSpec.Regime regime, double widthFactor, int width, double l0Factor, int k,
                          String method, StudyAnalysis.Cell cell) {
    }

    public record Outcome(List<MapCell> cells, int missingRuns) {
    }

    public Outcome run() {
        List<MapCell> cells = new ArrayList<>();
        int planned = 0, done = 0, total = plannedRuns();
        for (RegimeMapSpec.Regime regime : spec.regimes()) {
            Sweep sweep = new Sweep(sweepSpec(regime), engines, log);
            for (int w : distinctWidths(regime)) {
                List<StudyRun> runs = new ArrayList<>();
                Map<String, double[]> settings = new LinkedHashMap<>(); // cell key -> {width factor, L0 factor}
                for (int k : distinctKs(regime)) {
                    for (StudySpec.Baseline method : spec.methods()) {
                        Candidate c = new Candidate(method.name(), "baseline", method.arch(), null, null,
                                RegimeMapSpec.keysFor(method, regime));
                        settings.put(method.name() + "@" + k, new double[] {widthFactor(regime, w), l0Factor(regime, k)});
                        for (long seed : spec.seeds()) {
                            planned++;
                            StudyRun r = train(sweep, regime, c, w, k, seed,
                                    "[" + (++done) + "/" + total + "] " + regime.name() + " ");
                            if (r != null) {
                                runs.add(r);
                            }
                        }
                    }
                }
                for (StudyAnalysis.Cell cell : StudyAnalysis.cells(runs, "truth", "map")) {
                    double[] f = settings.get(cell.candidate().name() + "@" + (int) cell.targetL0());
                    cells.add(new MapCell(regime, f[0], w, f[1], (int) cell.targetL0(), cell.candidate().name(), cell));
                }
            }
        }
        int missing = planned - cells.stream().mapToInt(c -> c.cell().seeds() + c.cell().flagged()).sum();
        if (missing > 0) {
            say(missing + " run(s) not finished yet are left out of this report");
        }
        return new Outcome(cells, missing);
    }

    private int plannedRuns() {
        int n = 0;
        for (RegimeMapSpec.Regime r : spec.regimes()) {
            n += distinctWidths(r).size() * distinctKs(r).size() * spec.methods().size() * spec.seeds().size();
        }
        return n;
    }

    /** The widths of the regime, each once (two factors that round to one width are one run). */
    List<Integer> distinctWidths(RegimeMapSpec.Regime r) {
        return spec.widths().stream().map(f -> RegimeMapSpec.width(r, f)).distinct().toList();
    }

    List<Integer> distinctKs(RegimeMapSpec.Regime r) {
        return spec.l0().stream().map(f -> RegimeMapSpec.k(r, f)).distinct().toList();
    }

    /** The first listed factor that gives this width (the one the report names the column by). */
    private double widthFactor(RegimeMapSpec.Regime r, int width) {
        return spec.widths().stream().filter(f -> RegimeMapSpec.width(r, f) == width).findFirst().orElseThrow();
    }

    private double l0Factor(RegimeMapSpec.Regime r, int k) {
        return spec.l0().stream().filter(f -> RegimeMapSpec.k(r, f) == k).findFirst().orElseThrow();
    }

    private StudyRun train(Sweep sweep, RegimeMapSpec.Regime regime, Candidate c, int width, int k, long seed,
                           String label) {
        Map<String, Object> overrides = new LinkedHashMap<>(spec.common());
        c.keys().forEach((key, v) -> overrides.put(c.arch() + ":" + key, v));
        TrainConfig config = Sweep.configFor(overrides, ArchKind.parse(c.arch()), width, spec.batch(), k, seed);
        Path dir = out.resolve("runs").resolve(regime.name()).resolve(c.name() + "-w" + width + "-k" + k + "-s" + seed);
        java.util.Optional<dev.atmsae.sweep.RunResult> done = sweep.finished(config, dir);
        if (reportOnly || done.isPresent()) {
            return done.map(r -> new StudyRun(c, "map", k, seed, r)).orElse(null);
        }
        ensureData(regime); // only a run that trains needs the data: a map of finished runs generates nothing
        PlannedRun run = new PlannedRun(0, regime.name() + "-" + dir.getFileName(), c.name(), dir, k, config);
        return new StudyRun(c, "map", k, seed, sweep.runTask(run, label, Sweep.StopRequest.NONE).result());
    }

    private Path dataDir(RegimeMapSpec.Regime regime) {
        return out.resolve("data").resolve(regime.name());
    }

    private void ensureData(RegimeMapSpec.Regime regime) {
        Path dataDir = dataDir(regime);
        if (!Files.exists(dataDir.resolve("truth"))) {
            say("generating regime " + regime.name() + " (" + regime.config().features() + " features, "
                    + String.format(java.util.Locale.ROOT, "%.2f", regime.config().meanActiveFeatures())
                    + " active per sample) into " + dataDir);
            SynthFiles.write(dataDir, regime.config());
        }
    }

    private SweepSpec sweepSpec(RegimeMapSpec.Regime regime) {
        Path dataDir = dataDir(regime);
        int maxWidth = distinctWidths(regime).stream().mapToInt(Integer::intValue).max().orElseThrow();
        List<Double> ks = distinctKs(regime).stream().map(Integer::doubleValue).toList();
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("study", spec.name());
        metadata.put("regime", regime.name());
        return new SweepSpec(dataDir.resolve("shards"), null, List.of(ArchKind.TOPK), ks, spec.seeds(), maxWidth,
                spec.tokens(), spec.batch(), spec.evalTokens(), null, dataDir.resolve("truth"), out, "cpu", null,
                Map.of(), metadata, quiet);
    }

    private void say(String s) {
        if (!quiet) {
            log.println("atmsae regime-map: " + s);
        }
    }
}
