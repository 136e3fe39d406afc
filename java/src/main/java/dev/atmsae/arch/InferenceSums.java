package dev.atmsae.arch;

/**
 * Per-batch sums from {@link SaeInference#run}, all in raw units, for the {@code eval} metrics. Sums (not means) so
 * that batches add up exactly; {@link #plus} combines two.
 *
 * @param rows     tokens in the batch
 * @param sqErr    Σ_b ‖x_b − x̂_b‖²
 * @param sumX     Σ_b x_b per input dimension [dIn] (for the FVU denominator Σ‖x − x̄‖² = sumSqX − ‖sumX‖²/rows)
 * @param sumSqX   Σ_b ‖x_b‖²
 * @param sumSqXhat Σ_b ‖x̂_b‖²
 * @param cosSum   Σ_b cos(x_b, x̂_b) (rows where either norm is 0 count as 0)
 * @param l0Count  number of active (&gt; 0) codes in the batch
 * @param l1Sum    Σ_b Σ_i f_{b,i}
 * @param fires    per-latent count of tokens where the latent was active [dSae]
 */
public record InferenceSums(long rows, double sqErr, double[] sumX, double sumSqX, double sumSqXhat, double cosSum,
                            long l0Count, double l1Sum, long[] fires) {
    public InferenceSums plus(InferenceSums o) {
        double[] sx = sumX.clone();
        for (int j = 0; j < sx.length; j++) {
            sx[j] += o.sumX[j];
        }
        long[] fi = fires.clone();
        for (int i = 0; i < fi.length; i++) {
            fi[i] += o.fires[i];
        }
        return new InferenceSums(rows + o.rows, sqErr + o.sqErr, sx, sumSqX + o.sumSqX, sumSqXhat + o.sumSqXhat,
                cosSum + o.cosSum, l0Count + o.l0Count, l1Sum + o.l1Sum, fi);
    }
}
