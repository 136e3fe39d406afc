package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * Adaptive Temporal Masking (atm.md): a ReLU SAE with unit-norm decoder rows whose latents are masked at random,
 * more often the less important they have been over time. One step:
 * <ol>
 *   <li>h = (x − b_dec)·W_encᵀ + b_enc, f = ReLU(h) (unmasked; L0 and dead-latent counts come from f).</li>
 *   <li>err = f·W_dec − xc (unmasked x̂ − x) and E = −err·W_decᵀ, i.e. E_{b,i} = ⟨e_b, d_i⟩ with e = x − x̂.</li>
 *   <li>Statistics a, q, ρ of f and E (every {@code atm_stats_every} steps) → host EMAs, importance, θ, p
 *       ({@link AtmStatistics}); p is recomputed every step with the scheduled rate r_t.</li>
 *   <li>If some p_i &gt; 0: f̃ = mask(f) with Philox uniforms keyed (seed, step, row, latent), a second decode
 *       err̃ = f̃·W_dec − xc and ∂f̃ = (2/B)·err̃·W_decᵀ. Otherwise f̃ = f and ∂f̃ = −(2/B)·E reuses step 2's product.</li>
 *   <li>Loss MSE(err̃) + λ·(1/B)·Σ f̃; backward through f̃ (masked entries get no gradient).</li>
 * </ol>
 * Dense products per step (each B×n×d): encode, decode, E, ∂W_dec, ∂W_enc = 5 while nothing can be masked
 * (before mask_start or p ≡ 0); 7 once masking is on (second decode and ∂f̃); with {@code atm_stats_every} &gt; 1 the
 * steps between statistics skip E while masking (6) and compute ∂f directly otherwise (5). On sparse batches
 * ({@link DenseCodeSae}) only the encode is dense: E is sampled at the active entries (step 3's ρ needs it only where
 * f &gt; 0), the mask, both decodes and every backward product run on the active entries.
 * Host traffic per step: a, q, ρ down and p up (O(n) floats), plus the few scalars of {@link StepMetrics}.
 *
 * <p>The mask, its mode ({@code atm_mask_mode}: per token and latent, or per latent for the whole batch) and the
 * 1/(1 − p) rescaling of kept codes ({@code atm_rescale}) come from {@link AtmMask}; with rescaling, ∂f̃/∂h carries
 * the same factor. ATM on the other bases ({@code atm_base}) lives in {@link SparseCodeSae} and {@link AtmJumpReluSae}.
 *
 * <p>Export: {@code atm_eval_mask = none} → SAELens {@code standard} (the plain ReLU SAE). {@code gate} → SAELens
 * {@code jumprelu} with threshold 0 (≡ ReLU) for kept latents and Float.MAX_VALUE for latents whose final
 * p_i ≥ {@code atm_eval_gate_p} (they can never fire) — weights untouched, so the gate is visible and reversible.
 */
final class AtmSae extends DenseCodeSae {
    private final AtmMask mask;
    private final Tensor fMasked;
    private final Tensor eDotD;
    private final Tensor errMasked;
    private final Tensor l1Grad;
    private final Tensor perLatent;
    /** Sparse path: the masked values of the active entries, and those entries with them (shares rowPtr, idx). */
    private final Tensor maskedVal;
    private final SparseCodes maskedActive;
    /** Host buffer for the L1 sum (allocation-free steps). */
    private final float[] hostSum;

    AtmSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        mask = own(new AtmMask(engine, cfg, n));
        fMasked = own(engine.allocF32(batch, n));
        eDotD = own(engine.allocF32(batch, n));
        errMasked = own(engine.allocF32(batch, d));
        l1Grad = own(engine.allocF32(1, n));
        perLatent = own(engine.allocF32(1, n));
        if (active != null) {
            maskedVal = own(engine.allocF32(1, active.capacity()));
            maskedActive = new SparseCodes(active.rowPtr(), active.idx(), maskedVal, batch, active.capacity());
        } else {
            maskedVal = null;
            maskedActive = null;
        }
        hostSum = new float[n];
    }

    @Override
    public ArchKind kind() {
        return ArchKind.ATM;
    }

    /** The host-side ATM statistics (for tests and reports). */
    AtmStatistics statistics() {
        return mask.statistics();
    }

    @Override
    protected void activate(Tensor h, Tensor f) {
        engine.relu(h, f);
    }

    @Override
    protected Parts forwardBackward(Tensor x, long step, double coeff) {
        double l0 = forwardToResidual(x);

        double rate = schedules.maskRate(step);
        boolean statsStep = mask.statisticsStep(step);
        if (statsStep) {
            if (sparseStep()) { // ⟨e_b, d_i⟩ only where f > 0: elsewhere it is multiplied by 0
                mask.updateActive(activeKernels, active, err, wDec.value(), gVal, rate);
            } else {
                mask.updateDense(f, err, wDec.value(), eDotD, rate);
            }
        } else {
            mask.recompute(rate);
        }
        int maskable = mask.maskableCount();
        if (maskable > 0) {
            mask.prepare(step);
        }
        if (sparseStep()) {
            return sparseBackward(x, step, coeff, l0, maskable);
        }

        Tensor code;
        Tensor residual;
        Tensor gF = eDotD; // E is consumed by the statistics above; the buffer now receives ∂L/∂f̃
        if (maskable > 0) {
            mask.maskDense(f, step, fMasked);
            denseResidual(fMasked, errMasked);
            engine.gemm(false, true, 2f / batch, errMasked, wDec.value(), 0f, gF);
            code = fMasked;
            residual = errMasked;
        } else {
            if (statsStep) {
                engine.scale(gF, -2f / batch);
            } else {
                engine.gemm(false, true, 2f / batch, err, wDec.value(), 0f, gF);
            }
            code = f;
            residual = err;
        }
        double mse = engine.sumSquares(residual) / batch;
        double l0Masked = maskable > 0 ? (double) engine.countPositive(code) / batch : l0;
        engine.colSum(code, 1f, perLatent, false);
        double l1 = hostSum(perLatent, hostSum) / batch;
        engine.fill(l1Grad, (float) (coeff / batch));

        denseDecoderGrad(code, residual);
        engine.reluBackward(code, gF, l1Grad, h);
        if (maskable > 0) {
            mask.scaleDense(h); // atm_rescale: ∂f̃/∂f = s_i on kept entries
        }
        denseEncoderGrads(h, residual);
        AtmStatistics stats = mask.statistics();
        return new Parts(mse, coeff * l1, 0, l0, l0Masked, (double) maskable / n, stats.meanP(), stats.theta());
    }

    /** Steps 4–5 on the active entries: the mask, decode and every backward product touch only them. */
    private Parts sparseBackward(Tensor x, long step, double coeff, double l0, int maskable) {
        SparseCodes code = active;
        Tensor residual = err;
        if (maskable > 0) {
            mask.maskSparse(active, active.val(), step, maskedVal);
            code = maskedActive;
            sparseResidual(maskedActive, x, decoded, errMasked);
            residual = errMasked;
        }
        double mse = engine.sumSquares(residual) / batch;
        double l0Masked = maskable > 0 ? (double) engine.countPositive(maskedVal) / batch : l0;
        activeKernels.sparseColSum(code, perLatent);
        double l1 = hostSum(perLatent, hostSum) / batch;
        engine.fill(l1Grad, (float) (coeff / batch));

        sparseDecoderGrad(code, residual, gXhat, gVal);
        activeKernels.sparseReluBackward(code, l1Grad, gVal);
        if (maskable > 0 && mask.rescales()) {
            mask.maskSparse(active, gVal, step, gVal); // atm_rescale: ∂f̃/∂f = s_i on kept entries (masked ones are 0)
        }
        sparseEncoderGrads(code, gVal, residual);
        AtmStatistics stats = mask.statistics();
        return new Parts(mse, coeff * l1, 0, l0, l0Masked, (double) maskable / n, stats.meanP(), stats.theta());
    }

    private boolean gated() {
        return "gate".equals(cfg.atmEvalMask());
    }

    @Override
    protected double[] trainingThresholds() {
        return gated() ? new double[n] : null;
    }

    @Override
    protected ExportForm exportForm(float[] foldedThresholds) {
        return gated() ? new ExportForm("jumprelu", mask.gate(foldedThresholds), 0)
                : new ExportForm("standard", null, 0);
    }

    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        mask.putExportFacts(facts, schedules.maskStart(), schedules.maskRamp());
    }

    @Override
    protected void putExtraState(Map<String, Object> out) {
        mask.putState(out);
    }

    @Override
    protected void restoreExtraState(Map<String, Object> in) {
        mask.restoreState(in);
    }
}
