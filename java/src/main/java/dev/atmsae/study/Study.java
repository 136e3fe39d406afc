package dev.atmsae.study;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.core.ArchKind;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.engine.Engine;
import dev.atmsae.eval.synth.SynthConfig;
import dev.atmsae.eval.synth.SynthFiles;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.sweep.Plan;
import dev.atmsae.sweep.PlannedRun;
import dev.atmsae.sweep.RunResult;
import dev.atmsae.sweep.Sweep;
import dev.atmsae.sweep.SweepSpec;
import dev.atmsae.util.UserError;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Runs a {@link StudySpec}: (1) screening — every configuration at one L0 and one seed; (2) selection — the best
 * {@code confirm.top} ATM configurations by their win margin against TopK ({@link StudyAnalysis}); (3) confirmation —
 * the selected ATM configurations and every baseline at each L0 target × seed, seed by seed. Without a screen stage
 * every ATM configuration is confirmed. Runs go through {@link Sweep#runTask}, one directory per (configuration,
 * L0, seed) under OUT/runs, so a killed study reruns only what had not finished (a screening run that coincides with
 * a confirmation run is trained once). Synthetic data is generated once into OUT/data.
 *
 * <p>The stages also run as separate processes, a cluster's job arrays: {@link #plan()} (plan.json: every screening
 * run, or every confirmation run when there is no screening), {@link #runTask} per run of a stage, {@link #select}
 * (selection.json: the choice and the confirmation runs it implies), and {@link #outcome} for the report. A local
 * {@link #run()} goes through the same steps, so both write the same files.
 */
public final class Study {
    /** Relative L0 miss above which a run is flagged and excluded from matched comparisons. */
    public static final double L0_TOLERANCE = 0.10;

    public static final String SCREEN = "screen";
    public static final String CONFIRM = "confirm";
    /** The selection step's record: the configurations chosen by screening and the confirmation runs. */
    public static final String SELECTION_FILE = "selection.json";
    private static final String SELECTION_FORMAT = "atmsae-study-selection";

    private final StudySpec.Source source;
    private final StudySpec spec;
    private final Path out;
    private final Supplier<Engine> engines;
    private final PrintStream log;
    private final boolean quiet;
    private final boolean reportOnly;
    private final List<Candidate> candidates;
    private long checkpointEvery;

    public Study(StudySpec.Source source, Path out, Supplier<Engine> engines, PrintStream log, boolean quiet) {
        this(source, out, engines, log, quiet, false);
    }

    /**
     * @param reportOnly train nothing: analyse the runs that have finished (an interim report of a study still
     *                   running elsewhere, or one stopped for the day); missing runs are left out and counted
     */
    public Study(StudySpec.Source source, Path out, Supplier<Engine> engines, PrintStream log, boolean quiet,
                 boolean reportOnly) {
        this.source = source;
        this.spec = source.spec();
        this.out = out;
        this.engines = engines;
        this.log = log;
        this.quiet = quiet;
        this.reportOnly = reportOnly;
        this.candidates = Candidates.expand(spec);
    }

    /** The study a plan holds (its config as planned), run with this process's engines. */
    @SuppressWarnings("unchecked")
    public static Study fromPlan(Plan plan, Path out, Supplier<Engine> engines, PrintStream log, boolean quiet) {
        if (!"study".equals(plan.kind()) || !(plan.extra("study") instanceof Map<?, ?> study)) {
            throw UserError.inFile(plan.file(), "is the plan of a " + plan.kind() + ", not of a study");
        }
        StudySpec.Source source = StudySpec.Source.of(Path.of((String) study.get("config_file")),
                (Map<String, Object>) study.get("config"));
        return new Study(source, out, engines, log, quiet);
    }

    /** Also checkpoints every {@code steps} training steps (see {@link Sweep#withCheckpointEvery}). */
    public Study withCheckpointEvery(long steps) {
        this.checkpointEvery = steps;
        return this;
    }

    public StudySpec spec() {
        return spec;
    }

    /** Everything a study produced: configurations, runs per stage, the screening selection and the analysis. */
    public record Outcome(List<Candidate> candidates, List<StudyRun> screenRuns, List<Candidate> selected,
                          List<StudyRun> confirmRuns, StudyAnalysis analysis, int missingRuns) {
    }

    /**
     * The study's plan: its config as read, and the first stage's runs — every configuration at the screening L0 and
     * seed, or (without screening) every confirmation run.
     */
    public Plan plan() {
        Map<String, Object> study = new LinkedHashMap<>();
        study.put("config_file", source.file().toString());
        study.put("config", source.keys());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("study", study);
        extra.put("candidates", candidates.stream().map(Candidate::toMap).toList());
        Map<String, List<PlannedRun>> stages = new LinkedHashMap<>();
        if (spec.screen() != null) {
            stages.put(SCREEN, screenRuns());
        } else {
            stages.put(CONFIRM, confirmRuns(atmCandidates()));
        }
        return Plan.of("study", sweepSpec().toPlanMap(), extra, stages);
    }

    /** Writes the synthetic data into OUT/data once (a study on shards has nothing to prepare). */
    public void prepareData() {
        if (spec.data().synth() == null) {
            return;
        }
        Path dataDir = out.resolve("data");
        SynthConfig cfg = synthConfig(spec.data().synth());
        if (!Files.exists(dataDir.resolve("truth"))) {
            say("generating synthetic data (" + cfg.tokens() + " tokens, d = " + cfg.d() + ") into " + dataDir);
            SynthFiles.write(dataDir, cfg);
        }
    }

    /** Plans (claiming OUT), prepares the data, runs every stage in this process and analyses them. */
    public Outcome run() {
        plan().claim(out);
        prepareData();
        if (reportOnly) {
            return outcome();
        }
        Sweep sweep = sweep();
        if (spec.screen() != null) {
            List<PlannedRun> screen = screenRuns();
            for (PlannedRun r : screen) {
                sweep.runTask(r, "screen " + (r.task() + 1) + "/" + screen.size() + " ", Sweep.StopRequest.NONE);
            }
            select();
        }
        List<PlannedRun> confirm = confirmRuns(selectedOrAll());
        for (PlannedRun r : confirm) {
            sweep.runTask(r, "confirm " + (r.task() + 1) + "/" + confirm.size() + " ", Sweep.StopRequest.NONE);
        }
        return outcome();
    }

    /**
     * Runs task {@code index} of {@code stage} as its plan entry says (screening: plan.json; confirmation:
     * selection.json, or plan.json without screening). A confirmation task beyond the runs the selection implies (the
     * array is sized before the selection is known) has nothing to do: empty.
     */
    public Optional<Sweep.TaskOutcome> runTask(String stage, int index, Sweep.StopRequest stop) {
        Plan plan = withConfirmStage(Plan.read(out));
        if (!stage.equals(SCREEN) && !stage.equals(CONFIRM)) {
            throw new UserError("study: --stage must be " + SCREEN + " or " + CONFIRM + ", got " + stage);
        }
        if (!plan.hasStage(stage)) {
            if (stage.equals(CONFIRM)) {
                selectedOrAll(); // the one-line error: no selection yet
            }
            throw UserError.inFile(plan.file(), "this study has no " + stage + " stage");
        }
        boolean sizedBeforeSelection = stage.equals(CONFIRM) && spec.screen() != null;
        int size = plan.size(stage);
        if (sizedBeforeSelection && index >= size && index < confirmCapacity()) {
            say("confirm task " + index + ": nothing to do (the selection implies " + size + " confirmation runs)");
            return Optional.empty();
        }
        return Optional.of(sweep().runPlanned(plan, stage, index, stage + " task " + index + " ", stop));
    }

    /**
     * The selection step: the screening's choice (the same as a local study makes), written to selection.json with
     * the confirmation runs it implies. Every screening run must have finished. Idempotent: an existing selection
     * must be the same one.
     */
    public List<Candidate> select() {
        List<StudyRun> screen = new ArrayList<>();
        Map<String, String> unfinished = new LinkedHashMap<>();
        Sweep sweep = sweep();
        for (PlannedRun r : screenRuns()) {
            Optional<RunResult> done = sweep.finished(r.config(), r.dir());
            if (done.isPresent()) {
                screen.add(studyRun(r, SCREEN, done.get()));
            } else {
                unfinished.put(r.name(), sweep.whyUnfinished(r.name()));
            }
        }
        if (!unfinished.isEmpty()) {
            throw new UserError("study: cannot select yet: " + unfinished.size() + " of " + screenRuns().size()
                    + " screening runs have no result (" + unfinished.entrySet().iterator().next() + ")");
        }
        List<Candidate> selected = StudyAnalysis.select(screen, spec.confirm().top(), spec.absorption(), spec.winAgainst());
        say("screening selected " + selected.stream().map(Candidate::name).toList());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", SELECTION_FORMAT);
        m.put("selected", selected.stream().map(Candidate::name).toList());
        m.put(CONFIRM, confirmRuns(selected).stream().map(PlannedRun::toMap).toList());
        Path file = out.resolve(SELECTION_FILE);
        Optional<List<String>> existing = recordedSelection();
        if (existing.isPresent() && !existing.get().equals(m.get("selected"))) {
            throw UserError.inFile(file, "holds another selection " + existing.get() + " than the screening's "
                    + m.get("selected") + "; delete it (and the confirmation runs made from it) to select again");
        }
        if (existing.isEmpty()) {
            writeJson(file, m);
        }
        return selected;
    }

    /** The names selection.json records, if the selection step ran. */
    @SuppressWarnings("unchecked")
    private Optional<List<String>> recordedSelection() {
        Path file = out.resolve(SELECTION_FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Map<String, Object> m = readJson(file);
        if (!SELECTION_FORMAT.equals(m.get("format")) || !(m.get("selected") instanceof List<?> names)) {
            throw UserError.inFile(file, "not an atmsae study selection");
        }
        return Optional.of((List<String>) names);
    }

    /** The selected configurations: from selection.json; every ATM one without screening; else none yet. */
    private List<Candidate> selectedOrAll() {
        if (spec.screen() == null) {
            return atmCandidates();
        }
        List<String> names = recordedSelection().orElseThrow(() -> UserError.inFile(out.resolve(SELECTION_FILE),
                "no selection yet: run atmsae study --out " + out + " --select once screening has finished"));
        return names.stream().map(this::candidate).toList();
    }

    /**
     * The plan with its confirmation stage added once it is known (after the selection), for a status of every stage.
     */
    @SuppressWarnings("unchecked")
    public Plan withConfirmStage(Plan plan) {
        if (plan.hasStage(CONFIRM) || recordedSelection().isEmpty()) {
            return plan;
        }
        return plan.withStage(CONFIRM, (List<Map<String, Object>>) readJson(out.resolve(SELECTION_FILE)).get(CONFIRM));
    }

    /**
     * The most confirmation tasks there can be: baselines plus {@code confirm.top} ATM configurations (or every ATM
     * one without screening), at every L0 target and seed. A cluster's confirmation array has this many tasks before
     * the selection is known; those beyond the selection's runs do nothing.
     */
    public int confirmCapacity() {
        int atm = atmCandidates().size();
        int confirmed = baselines().size() + (spec.screen() == null ? atm : Math.min(atm, spec.confirm().top()));
        return confirmed * spec.confirm().l0s().size() * spec.confirm().seeds().size();
    }

    /** Every configuration at the screening L0 and seed, in candidate order. */
    List<PlannedRun> screenRuns() {
        List<PlannedRun> runs = new ArrayList<>();
        for (Candidate c : candidates) {
            runs.add(planned(runs.size(), c, spec.screen().l0(), spec.screen().seed()));
        }
        return runs;
    }

    /**
     * The baselines and {@code selected} at each L0 target × seed, seed by seed: an interrupted study holds every
     * configuration at the seeds it finished, not some configurations at every seed and others at none.
     */
    List<PlannedRun> confirmRuns(List<Candidate> selected) {
        List<Candidate> confirmed = new ArrayList<>(baselines());
        confirmed.addAll(selected);
        List<PlannedRun> runs = new ArrayList<>();
        for (long seed : spec.confirm().seeds()) {
            for (double l0 : spec.confirm().l0s()) {
                for (Candidate c : confirmed) {
                    runs.add(planned(runs.size(), c, l0, seed));
                }
            }
        }
        return runs;
    }

    private PlannedRun planned(int task, Candidate c, double l0, long seed) {
        String l0Name = l0 == Math.rint(l0) ? Long.toString((long) l0) : Double.toString(l0);
        String name = c.name() + "-l0_" + l0Name + "-s" + seed;
        return new PlannedRun(task, name, c.name(), out.resolve("runs").resolve(name), l0, configFor(c, l0, seed));
    }

    /**
     * What the finished runs say: the screening runs, the selection (recorded; or, before the selection step, what the
     * finished screening runs would select), the confirmation runs, and how many planned runs have no result yet.
     */
    public Outcome outcome() {
        Sweep sweep = sweep();
        List<StudyRun> screenRuns = new ArrayList<>();
        int planned = 0;
        if (spec.screen() != null) {
            for (PlannedRun r : screenRuns()) {
                planned++;
                sweep.finished(r.config(), r.dir()).ifPresent(res -> screenRuns.add(studyRun(r, SCREEN, res)));
            }
        }
        List<Candidate> selected = spec.screen() == null ? atmCandidates()
                : recordedSelection().map(names -> names.stream().map(this::candidate).toList())
                        .orElseGet(() -> StudyAnalysis.select(screenRuns, spec.confirm().top(), spec.absorption(),
                                spec.winAgainst()));
        List<StudyRun> confirmRuns = new ArrayList<>();
        for (PlannedRun r : confirmRuns(selected)) {
            planned++;
            sweep.finished(r.config(), r.dir()).ifPresent(res -> confirmRuns.add(studyRun(r, CONFIRM, res)));
        }
        int missing = planned - screenRuns.size() - confirmRuns.size();
        if (missing > 0) {
            say(missing + " run(s) not finished yet are left out of this report");
        }
        StudyAnalysis analysis = StudyAnalysis.of(spec, candidates, screenRuns, confirmRuns);
        return new Outcome(candidates, screenRuns, selected, confirmRuns, analysis, missing);
    }

    /** The unfinished runs of every stage known so far, each with why (its task record), in plan order. */
    public Map<String, String> unfinished() {
        Sweep sweep = sweep();
        List<PlannedRun> runs = new ArrayList<>(spec.screen() != null ? screenRuns() : List.of());
        if (spec.screen() == null || recordedSelection().isPresent()) {
            runs.addAll(confirmRuns(selectedOrAll()));
        }
        Map<String, String> unfinished = new LinkedHashMap<>();
        for (PlannedRun r : runs) {
            if (sweep.finished(r.config(), r.dir()).isEmpty()) {
                unfinished.put(r.name(), sweep.whyUnfinished(r.name()));
            }
        }
        if (spec.screen() != null && recordedSelection().isEmpty()) {
            unfinished.put(CONFIRM, "waits for the selection");
        }
        return unfinished;
    }

    private StudyRun studyRun(PlannedRun r, String stage, RunResult result) {
        return new StudyRun(candidate(r.group()), stage, r.targetL0(), r.seed(), result);
    }

    private Candidate candidate(String name) {
        return candidates.stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new UserError("study: the plan names a configuration " + name
                        + " that this study config does not have"));
    }

    private List<Candidate> atmCandidates() {
        return candidates.stream().filter(Candidate::isAtm).toList();
    }

    private List<Candidate> baselines() {
        return candidates.stream().filter(c -> !c.isAtm()).toList();
    }

    private Sweep sweep() {
        return new Sweep(sweepSpec(), engines, log).withCheckpointEvery(checkpointEvery);
    }

    /** The study's common keys, then the configuration's own (which win), then width, batch, seed and the L0 target. */
    TrainConfig configFor(Candidate c, double l0, long seed) {
        Map<String, Object> overrides = new LinkedHashMap<>(spec.common());
        c.keys().forEach((k, v) -> overrides.put(c.arch() + ":" + k, v));
        return Sweep.configFor(overrides, ArchKind.parse(c.arch()), spec.width(), spec.batch(), l0, seed);
    }

    /** The inputs of every run: shards (OUT/data for synthetic data), evaluation shards, probe set, truth. */
    private SweepSpec sweepSpec() {
        Path shards = spec.data().shards();
        Path truth = null;
        Path probeSet = spec.data().probeSet();
        if (spec.data().synth() != null) {
            Path dataDir = out.resolve("data");
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

    private static void writeJson(Path file, Object value) {
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(value));
        } catch (IOException e) {
            throw UserError.inFile(file, "cannot write: " + e.getMessage());
        }
    }

    private static Map<String, Object> readJson(Path file) {
        try {
            return JSON.readValue(Files.readString(file), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw UserError.inFile(file, "unreadable: " + e.getMessage());
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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
