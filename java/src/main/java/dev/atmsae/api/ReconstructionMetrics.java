package dev.atmsae.api;

import java.util.Locale;

/**
 * How well an SAE reconstructs a set of activations (the numbers {@code atmsae eval} prints).
 *
 * @param mse               mean over tokens of ‖x − x̂‖²
 * @param fvu               fraction of variance unexplained: Σ‖x − x̂‖² / Σ‖x − mean(x)‖²
 * @param explainedVariance 1 − fvu
 * @param cosineSimilarity  mean over tokens of cos(x, x̂)
 * @param l0                mean active latents per token
 * @param l1                mean Σ f per token
 * @param deadFraction      fraction of latents that never fired on these tokens
 * @param tokens            tokens evaluated
 */
public record ReconstructionMetrics(double mse, double fvu, double explainedVariance, double cosineSimilarity,
                                    double l0, double l1, double deadFraction, long tokens) {
    /**
     * The metrics in one line, e.g. {@code ReconstructionMetrics[8192 tokens: fvu 0.2130 (explained variance 0.7870),
     * mse 0.01234, cosine 0.912, L0 8.00, L1 3.21, dead 1.2%]}.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ReconstructionMetrics[%d tokens: fvu %.4f (explained variance %.4f), mse %.4g,"
                + " cosine %.3f, L0 %.2f, L1 %.4g, dead %.1f%%]", tokens, fvu, explainedVariance, mse, cosineSimilarity, l0,
                l1, 100 * deadFraction);
    }
}
