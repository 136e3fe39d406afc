package dev.atmsae.sweep;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one sweep run measured. Each part is a plain JSON-able map so the file stays readable by other tools;
 * parts that were not measured (no probe set, no truth set) are null.
 *
 * @param core          reconstruction metrics (mse, fvu, explained_variance, cosine_sim, l0, l1, dead_fraction, tokens)
 * @param absorption    probe-set absorption summary (absorption_fraction, ..._legacy, full_absorption, paper_score, per_class_fraction)
 * @param sparseProbing sparse-probing accuracy per k on SAE latents and on raw activations
 * @param truth         ground-truth absorption summary on the synthetic truth set
 * @param train         training facts (seconds, tokens/s, final sparsity coefficient, engine)
 */
public record RunResult(String arch, double targetL0, long seed, String dir, Map<String, Object> core,
                        Map<String, Object> absorption, Map<String, Object> sparseProbing, Map<String, Object> truth,
                        Map<String, Object> train) {

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch);
        m.put("target_l0", targetL0);
        m.put("seed", seed);
        m.put("dir", dir);
        m.put("core", core);
        m.put("absorption", absorption);
        m.put("sparse_probing", sparseProbing);
        m.put("truth", truth);
        m.put("train", train);
        return m;
    }

    @SuppressWarnings("unchecked")
    static RunResult read(Path file) {
        try {
            Map<String, Object> m = Sweep.JSON.readValue(Files.readString(file),
                    new TypeReference<LinkedHashMap<String, Object>>() { });
            return new RunResult((String) m.get("arch"), ((Number) m.get("target_l0")).doubleValue(),
                    ((Number) m.get("seed")).longValue(), (String) m.get("dir"), (Map<String, Object>) m.get("core"),
                    (Map<String, Object>) m.get("absorption"), (Map<String, Object>) m.get("sparse_probing"),
                    (Map<String, Object>) m.get("truth"), (Map<String, Object>) m.get("train"));
        } catch (IOException | RuntimeException e) {
            throw UserError.inFile(file, "unreadable sweep result (delete it to rerun that run): " + e.getMessage());
        }
    }

    /** A number at a dotted path such as {@code "absorption.absorption_fraction"}, or NaN when absent. */
    public double metric(String path) {
        Object node = toMap();
        for (String part : path.split("\\.")) {
            if (!(node instanceof Map<?, ?> map)) {
                return Double.NaN;
            }
            node = map.get(part);
        }
        return node instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
