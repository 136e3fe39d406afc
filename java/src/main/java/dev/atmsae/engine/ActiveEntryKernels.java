package dev.atmsae.engine;

/**
 * An engine capability: kernels over the <em>active entries</em> of dense codes (ReLU, ATM, JumpReLU). Once a batch's
 * codes are sparse, gathering their active entries into {@link SparseCodes} lets decode, ∂W_dec, ∂W_enc and the
 * per-latent sums run on those entries only ({@link Engine#sparseDecode} and its backward kernels, plus the ones
 * below) instead of on B×n dense products; only the encoder product stays dense. The results equal the dense
 * kernels' up to float32 rounding.
 *
 * <p>An engine implements this interface where that pays off: the CPU engine does. The CUDA engine does not (its
 * dense products are cheap and the gather would need a device-wide prefix sum), so dense-code architectures train
 * there with dense products only. The architectures ask {@code engine instanceof ActiveEntryKernels}.
 *
 * <p>Entries of a gathered code batch lie in row order, latents ascending within a row; entries from the stored
 * total to the capacity hold value 0. An entry may hold value 0 inside the total (JumpReLU keeps pre-activations
 * just below θ, which its straight-through estimator needs); decode and the scatters treat those as absent.
 */
public interface ActiveEntryKernels {

    /**
     * Gathers the entries (b, i) of f [B, n] whose key lies above a per-latent floor — h[b, i] &gt; floor[i] when
     * {@code floor} [1, n] is given (h [B, n]), else f[b, i] &gt; 0 (h ignored) — into {@code codes} with value
     * f[b, i]. Returns how many entries qualify; when that exceeds {@code codes.capacity()} nothing is written and
     * the caller takes the dense path. The count depends only on the data, never on the thread count.
     */
    long gatherActive(Tensor f, Tensor h, Tensor floor, SparseCodes codes);

    /** out[j] = alpha·⟨a[row(j)], w[idx_j]⟩ for every stored entry, 0 beyond (a sampled dense product). a [B, d]. */
    void sampledDots(SparseCodes codes, Tensor a, Tensor w, float alpha, Tensor out);

    /** out[1, n] = Σ_j val_j over the entries of latent i (written). */
    void sparseColSum(SparseCodes codes, Tensor out);

    /**
     * {@link Engine#reluBackward} on the entries: gVal[j] = val_j &gt; 0 ? gVal[j] + l1Grad[idx_j] : 0, where gVal
     * holds ∂L/∂f at the entries on entry and ∂L/∂h on return. l1Grad [1, n].
     */
    void sparseReluBackward(SparseCodes codes, Tensor l1Grad, Tensor gVal);

    /**
     * {@link Engine#jumpReluBackward} on the entries, which must include every (b, i) with h &gt; θ_i − ε/2 (the
     * active ones and the estimator's window): gLogTheta [1, n] is written from the entries (all others contribute
     * 0) and gVal (∂L/∂f at the entries) becomes ∂L/∂h = gVal·1[h &gt; θ_i]. h [B, n].
     */
    void sparseJumpReluBackward(SparseCodes codes, Tensor h, Tensor logTheta, float eps, float l0Coeff, Tensor gVal,
                                Tensor gLogTheta);

    /**
     * {@link Engine#atmStats} from the entries: eDotD [1, capacity] holds ⟨e_b, d_i⟩ at each entry (inactive entries
     * contribute 0 to every statistic, as in the dense kernel). Outputs [1, n] each, divided by the batch size.
     */
    void sparseAtmStats(SparseCodes codes, Tensor eDotD, Tensor dNormSq, Tensor a, Tensor q, Tensor rho);
}
