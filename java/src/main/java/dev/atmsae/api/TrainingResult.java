package dev.atmsae.api;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How a {@link Training} ended. A completed run has exported its SAE in SAELens format into {@link #directory()}
 * (cfg.json, sae_weights.safetensors, sparsity.safetensors) next to metrics.json and metrics.jsonl; a cancelled run
 * has written a checkpoint there instead, from which {@link Training#resume(Path)} continues. Immutable.
 *
 * @param completed  all steps ran and the SAE was exported
 * @param stopReason why an unfinished run stopped ("cancelled"), or null when completed
 * @param steps      steps done (over the whole run)
 * @param totalSteps steps of the whole run
 * @param directory  the run directory
 * @param summary    the content of metrics.json: throughput, final metrics, the resolved config (plain JSON values)
 */
public record TrainingResult(boolean completed, String stopReason, long steps, long totalSteps, Path directory,
                             Map<String, Object> summary) {
    /**
     * Compact constructor: copies the summary.
     *
     * @param completed  all steps ran and the SAE was exported
     * @param stopReason why an unfinished run stopped, or null
     * @param steps      steps done
     * @param totalSteps steps of the whole run
     * @param directory  the run directory
     * @param summary    metrics.json as a map
     */
    public TrainingResult {
        summary = summary == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(summary));
    }

    /**
     * The exported SAE's directory.
     *
     * @return the directory when the run completed, else empty
     */
    public Optional<Path> saeDirectory() {
        return completed ? Optional.of(directory) : Optional.empty();
    }

    /**
     * How the run ended in one line, e.g. {@code TrainingResult[completed: topk width 256, 195 steps (199680 tokens) in
     * 3.1 s, 64000 tokens/s; on the training data fvu 0.2130, L0 8.00; SAE in runs/topk]}, or for a cancelled run
     * {@code TrainingResult[stopped (cancelled) after step 12 of 195: topk width 256; checkpoint in runs/topk, continue
     * with Training.resume]}.
     *
     * @return the description
     */
    @Override
    public String toString() {
        String what = summary.get("config") instanceof Map<?, ?> config
                ? config.get("arch") + " width " + config.get("width") : "an SAE";
        if (!completed) {
            return "TrainingResult[stopped (" + stopReason + ") after step " + steps + " of " + totalSteps + ": " + what
                    + "; checkpoint in " + directory + ", continue with Training.resume]";
        }
        StringBuilder s = new StringBuilder("TrainingResult[completed: ").append(what).append(", ").append(steps)
                .append(" steps");
        if (summary.get("tokens") instanceof Number tokens) {
            s.append(" (").append(tokens.longValue()).append(" tokens)");
        }
        if (summary.get("wall_seconds") instanceof Number seconds) {
            s.append(String.format(Locale.ROOT, " in %.1f s", seconds.doubleValue()));
        }
        if (summary.get("tokens_per_s") instanceof Number rate) {
            s.append(String.format(Locale.ROOT, ", %.0f tokens/s", rate.doubleValue()));
        }
        if (summary.get("final_metrics") instanceof Map<?, ?> m && m.get("fvu") instanceof Number fvu
                && m.get("l0") instanceof Number l0) {
            s.append(String.format(Locale.ROOT, "; on the training data fvu %.4f, L0 %.2f", fvu.doubleValue(),
                    l0.doubleValue()));
        }
        return s.append("; SAE in ").append(directory).append(']').toString();
    }

    /**
     * Loads the exported SAE onto a device (the caller closes it).
     *
     * @param device where to run it
     * @return the SAE
     * @throws IllegalStateException if the run did not complete
     */
    public Sae loadSae(Device device) {
        if (!completed) {
            throw new IllegalStateException("the run stopped (" + stopReason + ") before exporting an SAE");
        }
        return Sae.load(directory, device);
    }
}
