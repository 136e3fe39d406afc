package dev.atmsae.sweep;

import dev.atmsae.core.TrainConfig;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One run of a {@link Plan}: everything a task needs to train and evaluate it, resolved when the plan was made.
 *
 * @param task     its index in its stage (the array task id that runs it)
 * @param name     the run directory's name, unique in the output directory
 * @param group    what the run belongs to in the report: the architecture (sweep) or the configuration (study)
 * @param dir      the run directory, as the plan spells it (relative paths are relative to the plan's cwd)
 * @param targetL0 the L0 target
 * @param config   the full TrainConfig
 */
public record PlannedRun(int task, String name, String group, Path dir, double targetL0, TrainConfig config) {

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", task);
        m.put("name", name);
        m.put("group", group);
        m.put("dir", dir.toString());
        m.put("target_l0", targetL0);
        m.put("config", config.toMap());
        return m;
    }

    /** The run of a plan entry; a broken entry (e.g. a hand-edited setting) is a one-line error naming the run. */
    @SuppressWarnings("unchecked")
    static PlannedRun fromMap(Map<String, Object> m, Path planFile) {
        Object name = m.get("name");
        try {
            return new PlannedRun(((Number) m.get("task")).intValue(), (String) name, (String) m.get("group"),
                    Path.of((String) m.get("dir")), ((Number) m.get("target_l0")).doubleValue(),
                    TrainConfig.fromMap((Map<String, Object>) m.get("config")));
        } catch (RuntimeException e) {
            throw UserError.inFile(planFile, "run " + name + ": " + e.getMessage());
        }
    }

    /** The seed (from the config). */
    public long seed() {
        return config.seed();
    }
}
