package dev.atmsae.api;

import java.util.Locale;

/**
 * What one training step reports. Losses are in training units (inputs scaled so that E‖x‖ = √d).
 *
 * @param step                the step just finished (1-based, counted over the whole run, also after a resume)
 * @param totalSteps          steps of the whole run (tokens / batch size)
 * @param tokens              tokens trained on so far (step × batch size)
 * @param loss                the total loss differentiated this step
 * @param mse                 mean over the batch of ‖x − x̂‖²
 * @param l0                  mean active latents per token at inference
 * @param deadFraction        fraction of latents that have not fired within the dead window
 * @param sparsityCoefficient the L1/L0 coefficient used this step (0 for topk and batchtopk)
 * @param learningRate        the learning rate used this step
 * @param tokensPerSecond     throughput of this process since it started (or resumed) the run
 */
public record TrainingProgress(long step, long totalSteps, long tokens, double loss, double mse, double l0,
                               double deadFraction, double sparsityCoefficient, double learningRate,
                               double tokensPerSecond) {
    /**
     * The step in one line, e.g. {@code TrainingProgress[step 50/195 (51200 tokens): loss 0.1234, mse 0.1200, L0 8.00,
     * dead 0.0%, sparsity coefficient 0, lr 0.004, 62000 tokens/s]}.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TrainingProgress[step %d/%d (%d tokens): loss %.4g, mse %.4g, L0 %.2f, dead %.1f%%,"
                + " sparsity coefficient %.4g, lr %.4g, %.0f tokens/s]", step, totalSteps, tokens, loss, mse, l0,
                100 * deadFraction, sparsityCoefficient, learningRate, tokensPerSecond);
    }
}
