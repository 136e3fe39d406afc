package dev.atmsae.api;

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
}
