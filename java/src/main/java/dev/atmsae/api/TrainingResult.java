package dev.atmsae.api;

import java.nio.file.Path;
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
