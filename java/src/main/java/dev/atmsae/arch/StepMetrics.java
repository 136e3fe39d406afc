package dev.atmsae.arch;

/**
 * What one training step reports (a few scalars downloaded per step).
 *
 * @param loss          total loss that was differentiated (mse + sparsityLoss + auxLoss·α; Matryoshka: its weighted
 *                      prefix-MSE sum in place of mse)
 * @param mse           mean over the batch of ‖x − x̂‖² in training (scaled) units, x̂ the reconstruction trained on
 *                      (Matryoshka: the full-width reconstruction)
 * @param sparsityLoss  the penalty term as added to the loss (λ·L1 for relu/atm, λ·L0 for jumprelu, 0 otherwise)
 * @param auxLoss       AuxK loss before its coefficient α (topk/batchtopk; 0 when no latent is dead or elsewhere)
 * @param l0            mean active latents per token at inference time (ATM: unmasked; BatchTopK: with threshold θ)
 * @param l0Masked      ATM: mean active latents per token after masking (what the decoder saw); else = l0
 * @param fracMaskable  ATM: fraction of latents with p_i &gt; 0; else 0
 * @param meanP         ATM: mean of p_i; else 0
 * @param theta         ATM: importance threshold θ_t; BatchTopK: the inference threshold θ; else 0
 * @param deadFraction  fraction of latents that have not fired within the dead window
 * @param sparsityCoeff the sparsity coefficient used this step (after warm-up; 0 for topk/batchtopk)
 * @param lr            the learning rate used this step
 * @param gradNorm      global L2 norm of all parameter gradients before clipping (after decoder projection)
 */
public record StepMetrics(double loss, double mse, double sparsityLoss, double auxLoss, double l0, double l0Masked,
                          double fracMaskable, double meanP, double theta, double deadFraction, double sparsityCoeff,
                          double lr, double gradNorm) {
}
