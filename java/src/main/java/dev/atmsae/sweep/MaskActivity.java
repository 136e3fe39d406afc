package dev.atmsae.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How much ATM's mask did in a run: the mean, over the logged steps of metrics.jsonl, of the share of the codes the
 * mask removed, (L0 − L0 of the code the decoder saw) / L0. 0 for every non-ATM run; also 0 for an ATM configuration
 * whose threshold never reaches a live latent (e.g. c &lt; 0 when most latents are dead), which is then its base
 * architecture under another name.
 */
public final class MaskActivity {
    /** Below this a configuration's mask is counted as inactive. */
    public static final double INACTIVE_BELOW = 1e-3;

    private static final ObjectMapper JSON = new ObjectMapper();

    private MaskActivity() {
    }

    /** The masked-code fraction from a run's metrics.jsonl; NaN when the file is absent or has no L0. */
    public static double maskedCodeFraction(Path metricsJsonl) {
        if (!Files.exists(metricsJsonl)) {
            return Double.NaN;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(metricsJsonl);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double sum = 0;
        int count = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                continue; // a line cut by a kill is not a step
            }
            double l0 = n.path("l0").asDouble(Double.NaN);
            double seen = n.path("l0Masked").asDouble(Double.NaN);
            if (l0 > 0 && Double.isFinite(seen)) {
                sum += Math.max(0, l0 - seen) / l0;
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }
}
