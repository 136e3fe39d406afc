package dev.atmsae.engine;

import java.lang.foreign.MemorySegment;

/**
 * The seam between the training math ({@code arch}, {@code train}) and the hardware. A training step is a sequence of
 * the named kernels below over engine-resident {@link Tensor}s; the CPU engine ({@code engine.cpu}) is the reference
 * and the CUDA engine ({@code engine.cuda}) implements the same kernels one for one (same names in {@code cuda/*.cu}).
 *
 * <p>Conventions shared by every kernel:
 * <ul>
 *   <li>All tensors are row-major float32 (or int32 where stated). B = batch rows, d = input width, n = latents.</li>
 *   <li>Both encoder and decoder are stored as [n, d] matrices: row i of {@code wEnc} is latent i's encoder
 *       direction (SAELens' W_enc[:, i]) and row i of {@code wDec} its decoder direction. This keeps every sparse
 *       kernel a gather/scatter of contiguous rows. Export transposes W_enc.</li>
 *   <li>Output tensors are fully overwritten unless the method says it accumulates.</li>
 *   <li>Kernels are asynchronous on CUDA; methods that return a host value synchronise.</li>
 * </ul>
 */
public interface Engine extends AutoCloseable {

    /** "cpu" or "cuda". */
    String name();

    /** One line for logs and metrics, e.g. "cpu: OpenBLAS 0.3.21 via FFM, 2 threads". */
    String describe();

    // ---------------------------------------------------------------- memory

    /** A zero-filled float32 tensor. */
    Tensor allocF32(int rows, int cols);

    /** A zero-filled int32 tensor. */
    Tensor allocI32(int rows, int cols);

    /** Copies {@code dst.size()} float32 values from host memory (heap or off-heap segment) into {@code dst}. */
    void upload(Tensor dst, MemorySegment src);

    void upload(Tensor dst, float[] src);

    void upload(Tensor dst, int[] src);

    void download(Tensor src, float[] dst);

    void download(Tensor src, int[] dst);

    void copy(Tensor src, Tensor dst);

    void fill(Tensor t, float value);

    /** Waits until every queued kernel has finished (a no-op on the CPU). */
    void synchronize();

    // ---------------------------------------------------------------- dense linear algebra

    /** C = alpha·op(A)·op(B) + beta·C with op(X) = Xᵀ when the flag is set. Shapes are checked. */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** y = alpha·x + y, element-wise over equal shapes. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** t = alpha·t. */
    void scale(Tensor t, float alpha);

    /** out[1, cols] = alpha·Σ_rows a + (accumulate ? out : 0). */
    void colSum(Tensor a, float alpha, Tensor out, boolean accumulate);

    /** out[1, rows] = Σ_j w[i, j]². */
    void rowSumSquares(Tensor w, Tensor out);

    /** Σ t², accumulated in float64 (returns to the host). */
    double sumSquares(Tensor t);

    // ---------------------------------------------------------------- encode

    /** xc = x − bDec (row broadcast), h = xc·wEncᵀ + bEnc. x, xc [B, d]; wEnc [n, d]; bEnc [1, n]; h [B, n]. */
    void encodePre(Tensor x, Tensor bDec, Tensor wEnc, Tensor bEnc, Tensor xc, Tensor h);

    /** f = max(h, 0). */
    void relu(Tensor h, Tensor f);

    /** f = h·1[h &gt; exp(logTheta_i)] (JumpReLU; θ &gt; 0 so f ≥ 0). logTheta [1, n]. */
    void jumpRelu(Tensor h, Tensor logTheta, Tensor f);

    /**
     * Per row, the k largest entries of h among the latents allowed by {@code allow} (I32 [1, n], nonzero = allowed;
     * null = all), ReLU'd, written to {@code codes} with rowPtr[b] = b·k, in descending order of h; ties broken by
     * the lower latent index. Used by TopK (allow = null) and AuxK (allow = dead latents).
     */
    void topK(Tensor h, int k, Tensor allow, SparseCodes codes);

    /**
     * BatchTopK: keeps the kTotal largest entries of ReLU(h) over the whole batch (ties by lower flat index), only
     * positive ones, and writes them to {@code codes} in row order, latents ascending within a row.
     * Returns the smallest kept value (the per-batch threshold sample), or 0 when nothing is positive.
     */
    float batchTopK(Tensor h, int kTotal, SparseCodes codes);

    // ---------------------------------------------------------------- decode

    /** xhat = Σ_j val_j·wDec[idx_j] per row + bDec (bDec may be null: no bias). xhat [B, d]. */
    void sparseDecode(SparseCodes codes, Tensor wDec, Tensor bDec, Tensor xhat);

    /**
     * Backward of {@link #sparseDecode}: gVal[j] = ⟨gXhat[row(j)], wDec[idx_j]⟩ (written, [1, capacity]) and
     * gWDec[idx_j] += val_j·gXhat[row(j)] (accumulated).
     */
    void sparseDecodeBackward(SparseCodes codes, Tensor gXhat, Tensor wDec, Tensor gVal, Tensor gWDec);

    /**
     * Encoder backward for sparse codes: for each entry j with a nonzero value, gWEnc[idx_j] += gPre_j·xc[row(j)] and
     * gBEnc[idx_j] += gPre_j (both accumulated). gPre [1, capacity] is the gradient w.r.t. the pre-activation.
     */
    void sparseEncoderBackward(SparseCodes codes, Tensor gPre, Tensor xc, Tensor gWEnc, Tensor gBEnc);

    /** Zeroes gVal[j] wherever val[j] ≤ 0 (the ReLU inside TopK / BatchTopK). */
    void sparseReluMask(SparseCodes codes, Tensor gVal);

    /** err = xhat − x. */
    void residual(Tensor xhat, Tensor x, Tensor err);

    // ---------------------------------------------------------------- Matryoshka prefixes (M latent groups)

    /**
     * Splits each row of {@code codes} at latent-group boundaries: rowPtrOut I32 [1, B·M + 1] with
     * rowPtrOut[b·M + m] = the first entry of row b whose latent is ≥ groupEnds[m − 1] (0 for m = 0) and
     * rowPtrOut[B·M] = rowPtr[B]; groupEnds I32 [1, M] strictly increasing. Requires latents ascending within each
     * row (as {@link #batchTopK} writes them). With the codes' idx/val this is a CSR over B·M rows, row b·M + m holding
     * row b's group-m entries, so {@link #sparseDecode} gives every group's contribution and
     * {@link #sparseDecodeBackward} every entry's gradient in one pass each.
     */
    void splitRowsAtGroups(SparseCodes codes, Tensor groupEnds, Tensor rowPtrOut);

    /**
     * Prefix residuals from per-group contributions, in place: with M = contrib.rows() / xc.rows(),
     * contrib[b·M + m] ← Σ_{m' ≤ m} contrib[b·M + m'] − xc[b] (the residual x̂_m − x of the first m + 1 groups, as
     * x = xc + b_dec) accumulated in that order, and fullErr[b] = the last one. contrib [B·M, d]; xc, fullErr [B, d].
     */
    void prefixResiduals(Tensor contrib, Tensor xc, Tensor fullErr);

    /**
     * out[b·M + m] = Σ_{m' ≥ m} weights[m']·prefixErr[b·M + m'] accumulated from m' = M − 1 down (the gradient reaching
     * group m's latents from every prefix that contains them). weights F32 [1, M]; prefixErr, out [B·M, d].
     */
    void weightedSuffixSum(Tensor prefixErr, Tensor weights, Tensor out);

    // ---------------------------------------------------------------- activation backward

    /**
     * ReLU-family backward for dense codes: gH = 1[f &gt; 0]·(gF + l1Grad_i), where f is the (possibly masked)
     * code that entered the decoder, so masked entries get no gradient. l1Grad [1, n] may be null (no penalty).
     */
    void reluBackward(Tensor f, Tensor gF, Tensor l1Grad, Tensor gH);

    /**
     * JumpReLU backward with the rectangle-kernel straight-through estimator (architectures.md):
     * gH = gF·1[h &gt; θ_i]; gLogTheta_i = θ_i·Σ_b [gF·(−θ_i/ε)·K((h−θ_i)/ε) + l0Coeff·(−1/ε)·K((h−θ_i)/ε)],
     * K(u) = 1[|u| &lt; ½]. gLogTheta [1, n] is written. l0Coeff already includes the 1/B of the batch mean.
     */
    void jumpReluBackward(Tensor h, Tensor logTheta, Tensor gF, float eps, float l0Coeff, Tensor gH, Tensor gLogTheta);

    // ---------------------------------------------------------------- ATM

    /**
     * Per-latent batch statistics of the unmasked code f [B, n] (atm.md step 2): a_i = mean_b f, q_i = mean_b 1[f &gt; 0],
     * rho_i = max(0, mean_b (f²·dNormSq_i + 2·f·eDotD_{b,i})), where eDotD = e·wDecᵀ [B, n] with e = x − x̂(unmasked)
     * and dNormSq [1, n] = ‖d_i‖². Outputs [1, n] each.
     */
    void atmStats(Tensor f, Tensor eDotD, Tensor dNormSq, Tensor a, Tensor q, Tensor rho);

    /**
     * Stochastic thresholded masking (atm.md step 7): fMasked_{b,i} = f_{b,i} unless u(seed, step, rowOffset + b, i)
     * &lt; p_i, then 0. The uniform comes from {@link dev.atmsae.core.Philox#maskUniform}, bitwise identical on every
     * engine. Returns nothing; L0 after masking is measured separately.
     */
    void atmMask(Tensor f, Tensor p, long seed, long step, long rowOffset, Tensor fMasked);

    /**
     * t[b, i] = s_i·t[b, i] for a dense [B, n] tensor and s [1, n] (ATM's 1/(1 − p) rescaling of kept codes and of
     * their gradients). Element-wise: the same bits on any partition.
     */
    void scaleColumns(Tensor t, Tensor s);

    /**
     * ATM's mask on sparse codes (atm_base topk/batchtopk/matryoshka): for entry j of row b, latent i = idx_j,
     * out_j = 0 when u(seed, step, rowOffset + b, i) &lt; p_i, else values_j·scale_i (scale null: 1); entries past
     * rowPtr[B] get 0. The uniform is {@link dev.atmsae.core.Philox#maskUniform}'s, so an entry is masked exactly
     * when {@link #atmMask} would mask it in the dense form. {@code values} and {@code out} are [1, capacity] and may
     * be the same tensor (applied to the codes' values, then to their gradient, it masks both alike).
     */
    void atmMaskSparse(SparseCodes codes, Tensor values, Tensor p, Tensor scale, long seed, long step, long rowOffset,
                       Tensor out);

    // ---------------------------------------------------------------- optimiser

    /**
     * Adam with bias correction (step t ≥ 1): g = gradScale·grad; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
     * param −= lr·(m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps).
     */
    void adam(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
              long step, float gradScale);

    /** Removes from each row of gW its component parallel to the same row of w: g_i −= (g_i·w_i / ‖w_i‖²)·w_i. */
    void removeParallelComponent(Tensor w, Tensor gW);

    /** Scales every row of w to unit L2 norm (rows of norm 0 are left alone). */
    void normalizeRows(Tensor w);

    // ---------------------------------------------------------------- metrics

    /** fires[1, n] += number of rows b with f[b, i] &gt; 0 (I32 accumulate). */
    void countFires(Tensor f, Tensor fires);

    /** fires[1, n] += number of entries of latent i with val &gt; 0 (I32 accumulate). */
    void countFiresSparse(SparseCodes codes, Tensor fires);

    /** Number of entries &gt; 0 in t (returns to the host). */
    long countPositive(Tensor t);

    @Override
    void close();
}
