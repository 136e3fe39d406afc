package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.train.TrainConfig;

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
 * <p>Export: {@code atm_eval_mask = none} → SAELens {@code standard} (the plain ReLU SAE). {@code gate} → SAELens
 * {@code jumprelu} with threshold 0 (≡ ReLU) for kept latents and Float.MAX_VALUE for latents whose final
 * p_i ≥ {@code atm_eval_gate_p} (they can never fire) — weights untouched, so the gate is visible and reversible.
 */
final class AtmSae extends DenseCodeSae {
    private final AtmStatistics stats;
    private final Tensor fMasked;
    private final Tensor eDotD;
    private final Tensor errMasked;
    private final Tensor dNormSq;
    private final Tensor statA;
    private final Tensor statQ;
    private final Tensor statR;
    private final Tensor pTensor;
    private final Tensor l1Grad;
    private final Tensor perLatent;
    /** Sparse path: the masked values of the active entries, and those entries with them (shares rowPtr, idx). */
    private final Tensor maskedVal;
    private final SparseCodes maskedActive;
    /** Host buffers for the O(n) per-step traffic (allocation-free steps). */
    private final float[] hostA, hostQ, hostR, hostP, hostSum;

    AtmSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        stats = new AtmStatistics(cfg, n);
        fMasked = own(engine.allocF32(batch, n));
        eDotD = own(engine.allocF32(batch, n));
        errMasked = own(engine.allocF32(batch, d));
        dNormSq = own(engine.allocF32(1, n));
        statA = own(engine.allocF32(1, n));
        statQ = own(engine.allocF32(1, n));
        statR = own(engine.allocF32(1, n));
        pTensor = own(engine.allocF32(1, n));
        l1Grad = own(engine.allocF32(1, n));
        perLatent = own(engine.allocF32(1, n));
        if (active != null) {
            maskedVal = own(engine.allocF32(1, active.capacity()));
            maskedActive = new SparseCodes(active.rowPtr(), active.idx(), maskedVal, batch, active.capacity());
        } else {
            maskedVal = null;
            maskedActive = null;
        }
        hostA = new float[n];
        hostQ = new float[n];
        hostR = new float[n];
        hostP = new float[n];
        hostSum = new float[n];
    }

    @Override
    public ArchKind kind() {
        return ArchKind.ATM;
    }

    /** The host-side ATM statistics (for tests and reports). */
    AtmStatistics statistics() {
        return stats;
    }

    @Override
    protected void activate(Tensor h, Tensor f) {
        engine.relu(h, f);
    }

    @Override
    protected Parts forwardBackward(Tensor x, long step, double coeff) {
        double l0 = forwardToResidual(x);

        double rate = schedules.maskRate(step);
        boolean statsStep = (step - 1) % cfg.atmStatsEvery() == 0;
        if (statsStep) {
            engine.rowSumSquares(wDec.value(), dNormSq);
            if (sparseStep()) { // ⟨e_b, d_i⟩ only where f > 0: elsewhere it is multiplied by 0
                activeKernels.sampledDots(active, err, wDec.value(), -1f, gVal);
                activeKernels.sparseAtmStats(active, gVal, dNormSq, statA, statQ, statR);
            } else {
                engine.gemm(false, true, -1f, err, wDec.value(), 0f, eDotD);
                engine.atmStats(f, eDotD, dNormSq, statA, statQ, statR);
            }
            engine.download(statA, hostA);
            engine.download(statQ, hostQ);
            engine.download(statR, hostR);
            stats.update(hostA, hostQ, hostR, rate);
        } else {
            stats.recompute(rate);
        }
        int maskable = stats.maskableCount();
        if (maskable > 0) {
            double[] p = stats.p();
            for (int i = 0; i < n; i++) {
                hostP[i] = (float) p[i];
            }
            engine.upload(pTensor, hostP);
        }
        if (sparseStep()) {
            return sparseBackward(x, step, coeff, l0, maskable);
        }

        Tensor code;
        Tensor residual;
        Tensor gF = eDotD; // E is consumed by the statistics above; the buffer now receives ∂L/∂f̃
        if (maskable > 0) {
            engine.atmMask(f, pTensor, cfg.seed(), step, 0L, fMasked);
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
        denseEncoderGrads(h, residual);
        return new Parts(mse, coeff * l1, 0, l0, l0Masked, (double) maskable / n, stats.meanP(), stats.theta());
    }

    /** Steps 4–5 on the active entries: the mask, decode and every backward product touch only them. */
    private Parts sparseBackward(Tensor x, long step, double coeff, double l0, int maskable) {
        SparseCodes code = active;
        Tensor residual = err;
        if (maskable > 0) {
            activeKernels.sparseAtmMask(active, pTensor, cfg.seed(), step, 0L, maskedVal);
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
        sparseEncoderGrads(code, gVal, residual);
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
        if (!gated()) {
            return new ExportForm("standard", null, 0);
        }
        double[] p = stats.p();
        for (int i = 0; i < n; i++) {
            foldedThresholds[i] = p[i] >= cfg.atmEvalGateP() ? Float.MAX_VALUE : 0f;
        }
        return new ExportForm("jumprelu", foldedThresholds, 0);
    }

    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        int gatedCount = 0;
        for (double v : stats.p()) {
            if (v >= cfg.atmEvalGateP()) {
                gatedCount++;
            }
        }
        facts.put("atm_eval_mask", cfg.atmEvalMask());
        facts.put("atm_gated_latents", gated() ? gatedCount : 0);
        facts.put("atm_latents_above_gate_p", gatedCount);
        facts.put("atm_final_theta", stats.theta());
        facts.put("atm_final_mean_p", stats.meanP());
        facts.put("atm_mask_start_steps", schedules.maskStart());
        facts.put("atm_mask_ramp_steps", schedules.maskRamp());
    }

    @Override
    protected void putExtraState(Map<String, Object> out) {
        stats.putState(out);
    }

    @Override
    protected void restoreExtraState(Map<String, Object> in) {
        stats.restoreState(in);
    }
}
