package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * ATM on a JumpReLU base (arch = atm, atm_base = jumprelu): the JumpReLU SAE of {@link JumpReluSae} (threshold
 * θ_i = exp(t_i), rectangle-kernel STE, L0 penalty on the unmasked code, so the target-L0 controller sets the
 * inference L0) whose decoder trains on the ATM-masked code f̃ = m ⊙ s ⊙ f (atm.md steps 2–7, {@link AtmMask}).
 * The gradient w.r.t. f is m ⊙ s ⊙ ∂L/∂f̃, obtained by masking ∂L/∂f̃ with the same Philox draws; it feeds both
 * the pre-activation and the threshold STE, so masked entries teach neither. Export: SAELens {@code jumprelu}
 * (gated latents, with {@code atm_eval_mask = gate}, get threshold Float.MAX_VALUE).
 *
 * <p>Dense products per step: encode, decode, ∂f̃, ∂W_dec, ∂W_enc, plus E (statistics steps) and the masked decode
 * (while masking) — 5 to 7 like {@link AtmSae}.
 */
final class AtmJumpReluSae extends DenseCodeSae {
    private final Param logTheta;
    private final AtmMask mask;
    private final Tensor gF;
    private final Tensor fMasked;
    private final Tensor eDotD;
    private final Tensor errMasked;

    AtmJumpReluSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        logTheta = LogThreshold.create(this, cfg, n);
        mask = own(new AtmMask(engine, cfg, n));
        gF = own(engine.allocF32(batch, n));
        fMasked = own(engine.allocF32(batch, n));
        eDotD = own(engine.allocF32(batch, n));
        errMasked = own(engine.allocF32(batch, d));
    }

    @Override
    public ArchKind kind() {
        return ArchKind.ATM;
    }

    @Override
    protected void activate(Tensor h, Tensor f) {
        engine.jumpRelu(h, logTheta.value(), f);
    }

    /** The masked step runs dense (no active-entry variant of the masked STE yet). */
    @Override
    protected boolean trainsOnActiveEntries() {
        return false;
    }

    @Override
    protected Parts forwardBackward(Tensor x, long step, double coeff) {
        double l0 = forwardToResidual(x);
        double rate = schedules.maskRate(step);
        if (mask.statisticsStep(step)) {
            mask.updateDense(f, err, wDec.value(), eDotD, rate);
        } else {
            mask.recompute(rate);
        }
        boolean masked = mask.maskableCount() > 0;
        Tensor code = f;
        Tensor residual = err;
        if (masked) {
            mask.prepare(step);
            mask.maskDense(f, step, fMasked);
            denseResidual(fMasked, errMasked);
            code = fMasked;
            residual = errMasked;
        }
        double mse = engine.sumSquares(residual) / batch;
        double l0Masked = masked ? (double) engine.countPositive(code) / batch : l0;
        engine.gemm(false, true, 2f / batch, residual, wDec.value(), 0f, gF);
        if (masked) {
            mask.maskDenseGradient(gF, step);
        }
        denseDecoderGrad(code, residual);
        // f is no longer needed: it receives ∂L/∂h
        engine.jumpReluBackward(h, logTheta.value(), gF, (float) cfg.jumpReluEps(), (float) (coeff / batch), f,
                logTheta.grad());
        denseEncoderGrads(f, residual);
        AtmStatistics stats = mask.statistics();
        return new Parts(mse, coeff * l0, 0, l0, l0Masked, (double) stats.maskableCount() / n, stats.meanP(),
                stats.theta());
    }

    @Override
    protected double[] trainingThresholds() {
        return LogThreshold.theta(download(logTheta.value()));
    }

    @Override
    protected ExportForm exportForm(float[] foldedThresholds) {
        return new ExportForm("jumprelu", mask.gate(foldedThresholds), 0);
    }

    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        facts.put("jumprelu_eps", cfg.jumpReluEps());
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
