package dev.atmsae.sweep;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code plan.json}: the contract between the process that plans a sweep or study and the tasks that run it,
 * possibly on other machines. It holds every run's full TrainConfig and directory by stage and task index, the
 * inputs every run reads (the {@link SweepSpec} as a map), the working directory that relative paths are relative to,
 * and the atmsae version that planned it. A task reads only its own run's entry, so a broken entry fails that task
 * alone.
 *
 * <p>An output directory belongs to the first plan written into it: planning a different sweep into it is a one-line
 * error, planning the same one again is a no-op (which is how a sweep is resubmitted). Tasks, the merge and the status
 * refuse a plan written by another atmsae version or format, and one whose relative paths would resolve elsewhere.
 */
public final class Plan {
    public static final String FILE = "plan.json";
    static final String FORMAT = "atmsae-plan";
    static final int VERSION = 1;

    private final String kind;
    private final Path cwd;
    private final String atmsae;
    private final Map<String, Object> sweep;
    private final Map<String, Object> extra;
    private final Map<String, List<Map<String, Object>>> stages;
    private final Path file;

    private Plan(String kind, Path cwd, String atmsae, Map<String, Object> sweep, Map<String, Object> extra,
                 Map<String, List<Map<String, Object>>> stages, Path file) {
        this.kind = kind;
        this.cwd = cwd;
        this.atmsae = atmsae;
        this.sweep = sweep;
        this.extra = extra;
        this.stages = stages;
        this.file = file;
    }

    /**
     * A new plan made in the current working directory by this atmsae.
     *
     * @param kind   "sweep" or "study"
     * @param sweep  the inputs of every run ({@link SweepSpec#toPlanMap()})
     * @param extra  what the kind needs besides (a study: its config), or an empty map
     * @param stages stage name → its runs in task order
     */
    public static Plan of(String kind, Map<String, Object> sweep, Map<String, Object> extra,
                          Map<String, List<PlannedRun>> stages) {
        Map<String, List<Map<String, Object>>> raw = new LinkedHashMap<>();
        stages.forEach((stage, runs) -> raw.put(stage, runs.stream().map(PlannedRun::toMap).toList()));
        return new Plan(kind, Path.of("").toAbsolutePath().normalize(), atmsaeVersion(), sweep, extra, raw, null);
    }

    /** This atmsae's version (from the jar manifest; "dev" when run from classes). */
    public static String atmsaeVersion() {
        String v = Plan.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("atmsae", atmsae);
        m.put("kind", kind);
        m.put("cwd", cwd.toString());
        m.put("sweep", sweep);
        m.putAll(extra);
        m.put("stages", stages);
        return m;
    }

    /**
     * Writes this plan into {@code out}, or finds it already there. A different plan in {@code out} is a one-line
     * error: the directory belongs to it.
     */
    public void claim(Path out) {
        Path target = out.resolve(FILE);
        if (Files.exists(target)) {
            Map<String, Object> existing = readMap(target);
            checkVersions(existing, target);
            Map<String, Object> mine = comparable(toMap());
            Map<String, Object> theirs = comparable(existing);
            if (!mine.equals(theirs)) {
                throw UserError.inFile(target, "this output directory belongs to another plan ("
                        + firstDifference(theirs, mine) + "); choose another --out, or (none of its tasks running) "
                        + "delete this plan.json to plan here anew: finished runs of an unchanged configuration are kept");
            }
            return;
        }
        Sweep.write(target, toMap());
    }

    /**
     * The plan as written, less where it was made when that does not matter (no relative paths): the same runs
     * planned from another directory are the same plan.
     */
    private static Map<String, Object> comparable(Map<String, Object> m) {
        Map<String, Object> c;
        try { // through the JSON text, so that numbers compare as the file holds them (1 and 1L alike)
            c = Sweep.JSON.readValue(Sweep.JSON.writeValueAsString(m),
                    new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw new IllegalStateException("a plan is plain JSON", e);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> sweep = (Map<String, Object>) c.get("sweep");
        if (sweep != null && !usesRelativePaths(sweep)) {
            c.remove("cwd");
        }
        return c;
    }

    private static String firstDifference(Map<String, Object> theirs, Map<String, Object> mine) {
        for (String key : theirs.keySet()) {
            if (!java.util.Objects.equals(theirs.get(key), mine.get(key))) {
                if (theirs.get(key) instanceof Map<?, ?> a && mine.get(key) instanceof Map<?, ?> b) {
                    for (Object k : a.keySet()) {
                        if (!java.util.Objects.equals(a.get(k), b.get(k))) {
                            return key + "." + k + " is " + a.get(k) + " there, " + b.get(k) + " here";
                        }
                    }
                }
                return key + " differs";
            }
        }
        return "it plans other runs";
    }

    /** The plan in {@code out}; every problem (none, another version, moved) is a one-line error. */
    public static Plan read(Path out) {
        Plan plan = readAnywhere(out);
        plan.checkLocation(out);
        return plan;
    }

    /**
     * The plan in {@code out} for a process that only reads it (a status): the working directory may differ, as
     * {@link #runDir} resolves against the plan's own.
     */
    public static Plan readAnywhere(Path out) {
        Path target = out.resolve(FILE);
        if (!Files.exists(target)) {
            throw UserError.inFile(target, "no plan here (plan a sweep or study into this directory with --plan, "
                    + "--slurm or a local run first)");
        }
        Map<String, Object> m = readMap(target);
        checkVersions(m, target);
        Plan plan;
        try {
            @SuppressWarnings("unchecked")
            Map<String, List<Map<String, Object>>> stages = (Map<String, List<Map<String, Object>>>) m.get("stages");
            @SuppressWarnings("unchecked")
            Map<String, Object> sweep = (Map<String, Object>) m.get("sweep");
            Map<String, Object> extra = new LinkedHashMap<>(m);
            for (String key : List.of("format", "version", "atmsae", "kind", "cwd", "sweep", "stages")) {
                extra.remove(key);
            }
            plan = new Plan((String) m.get("kind"), Path.of((String) m.get("cwd")), (String) m.get("atmsae"), sweep,
                    extra, stages, target);
            if (plan.kind == null || stages == null || sweep == null) {
                throw new IllegalArgumentException("kind, sweep and stages are required");
            }
        } catch (RuntimeException e) {
            throw UserError.inFile(target, "not a readable atmsae plan: " + e.getMessage());
        }
        return plan;
    }

    private static void checkVersions(Map<String, Object> m, Path target) {
        if (!FORMAT.equals(m.get("format"))) {
            throw UserError.inFile(target, "not an atmsae plan (format " + m.get("format") + ")");
        }
        if (!(m.get("version") instanceof Number v) || v.intValue() != VERSION) {
            throw UserError.inFile(target, "plan format version " + m.get("version") + " is not the one this atmsae "
                    + "reads (" + VERSION + "); plan again into a new --out");
        }
        if (!atmsaeVersion().equals(m.get("atmsae"))) {
            throw UserError.inFile(target, "planned by atmsae " + m.get("atmsae") + " but this is atmsae "
                    + atmsaeVersion() + ": run it with the atmsae that planned it, or plan again (a new --out, or "
                    + "delete this plan.json)");
        }
    }

    /**
     * Relative paths in the plan are relative to the directory it was planned in: a process elsewhere would read and
     * write other files, so it is refused (the sbatch scripts atmsae writes start in that directory).
     */
    private void checkLocation(Path out) {
        Path here = Path.of("").toAbsolutePath().normalize();
        Path plannedOut = cwd.resolve((String) sweep.get("out"));
        if (!sameFile(plannedOut, out)) {
            throw UserError.inFile(file, "planned for " + plannedOut + " but found in " + out.toAbsolutePath()
                    + " (moved?); plan again into this directory");
        }
        if (!sameFile(here, cwd) && usesRelativePaths(sweep)) {
            throw UserError.inFile(file, "planned in " + cwd + " with relative paths, but this process runs in "
                    + here + ": run it from " + cwd);
        }
    }

    private static boolean usesRelativePaths(Map<String, Object> sweep) {
        for (String key : List.of("out", "data", "eval_data", "probe_set", "truth")) {
            if (sweep.get(key) instanceof String p && !Path.of(p).isAbsolute()) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    private static Map<String, Object> readMap(Path file) {
        try {
            return Sweep.JSON.readValue(Files.readString(file), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw UserError.inFile(file, "unreadable plan: " + e.getMessage());
        }
    }

    public String kind() {
        return kind;
    }

    /** The working directory the plan was made in. */
    public Path cwd() {
        return cwd;
    }

    /** The output directory as planned (relative to {@link #cwd()} when relative): where tasks write. */
    public Path out() {
        return Path.of((String) sweep.get("out"));
    }

    /** The inputs of every run, as {@link SweepSpec#toPlanMap()} wrote them. */
    public Map<String, Object> sweep() {
        return sweep;
    }

    /** A kind-specific top-level entry (a study's config), or null. */
    public Object extra(String key) {
        return extra.get(key);
    }

    public List<String> stageNames() {
        return new ArrayList<>(stages.keySet());
    }

    public boolean hasStage(String stage) {
        return stages.containsKey(stage);
    }

    /**
     * This plan with one more stage whose runs were decided after planning (a study's confirmation, written by its
     * selection step); the stage's entries as {@link PlannedRun#toMap()} wrote them.
     */
    public Plan withStage(String stage, List<Map<String, Object>> runs) {
        Map<String, List<Map<String, Object>>> more = new LinkedHashMap<>(stages);
        more.put(stage, runs == null ? List.of() : runs);
        return new Plan(kind, cwd, atmsae, sweep, extra, more, file);
    }

    /** How many tasks a stage has. */
    public int size(String stage) {
        return entries(stage).size();
    }

    /** Task {@code task} of a stage; an index out of range is a one-line error. */
    public PlannedRun run(String stage, int task) {
        List<Map<String, Object>> runs = entries(stage);
        if (task < 0 || task >= runs.size()) {
            throw UserError.inFile(file, "--task " + task + " is out of range: stage " + stage + " has " + runs.size()
                    + " tasks (0.." + (runs.size() - 1) + ")");
        }
        return PlannedRun.fromMap(runs.get(task), file);
    }

    /** The name of task {@code task} of a stage, without parsing its config (for listings of broken plans). */
    public String runName(String stage, int task) {
        return String.valueOf(entries(stage).get(task).get("name"));
    }

    /** The run directory of task {@code task} of a stage, resolved against the directory the plan was made in. */
    public Path runDir(String stage, int task) {
        return cwd.resolve(String.valueOf(entries(stage).get(task).get("dir")));
    }

    private List<Map<String, Object>> entries(String stage) {
        List<Map<String, Object>> runs = stages.get(stage);
        if (runs == null) {
            throw UserError.inFile(file, "has no stage '" + stage + "' (it has " + String.join(", ", stages.keySet())
                    + ")");
        }
        return runs;
    }

    /** Where the plan was read from (null for a plan not yet written). */
    public Path file() {
        return file;
    }
}
