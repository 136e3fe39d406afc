package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * JumpReLU (Rajamanoharan et al. 2024; architectures.md): f = h·H(h − θ) with θ_i = exp(t_i), t trained;
 * loss = MSE + λ·(1/B)·Σ_b Σ_i H(h_{b,i} − θ_i); rectangle-kernel straight-through estimator (the engine's
 * {@code jumpReluBackward}); unit-norm decoder rows; Adam β1 = 0 by default. Export: SAELens {@code jumprelu} with
 * threshold θ (folded like the encoder).
 *
 * <p>Dense products per step (each B×n×d): encode, decode, ∂f, ∂W_dec, ∂W_enc — 5; on sparse batches
 * ({@link DenseCodeSae}) only the encode: the others run on the entries with h &gt; θ − ε (active or in the window).
 */
final class JumpReluSae extends DenseCodeSae {
    private final Param logTheta;
    private final Tensor gF;
    /** The active-entry floor θ − ε (device and host copies, reused every step). */
    private final Tensor floor;
    private final float[] hostFloor;

    JumpReluSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        logTheta = LogThreshold.create(this, cfg, n);
        gF = own(engine.allocF32(batch, n));
        floor = own(engine.allocF32(1, n));
        hostFloor = new float[n];
    }

    @Override
    public ArchKind kind() {
        return ArchKind.JUMPRELU;
    }

    @Override
    protected void activate(Tensor h, Tensor f) {
        engine.jumpRelu(h, logTheta.value(), f);
    }

    /**
     * θ_i − ε: the straight-through estimator's window (|h − θ_i| &lt; ε/2) and the active codes (h &gt; θ_i) both lie
     * above it, with a margin of ε/2 against rounding. θ as the engine computes it: float(exp(float log θ)).
     */
    @Override
    protected Tensor supportFloor() {
        engine.download(logTheta.value(), hostFloor);
        float eps = (float) cfg.jumpReluEps();
        for (int i = 0; i < n; i++) {
            hostFloor[i] = (float) Math.exp(hostFloor[i]) - eps;
        }
        engine.upload(floor, hostFloor);
        return floor;
    }

    @Override
    protected Parts forwardBackward(Tensor x, long step, double coeff) {
        double l0 = forwardToResidual(x);
        double mse = engine.sumSquares(err) / batch;
        float eps = (float) cfg.jumpReluEps();
        if (sparseStep()) {
            sparseDecoderGrad(active, err, gXhat, gVal);
            activeKernels.sparseJumpReluBackward(active, h, logTheta.value(), eps, (float) (coeff / batch), gVal,
                    logTheta.grad());
            sparseEncoderGrads(active, gVal, err);
        } else {
            engine.gemm(false, true, 2f / batch, err, wDec.value(), 0f, gF);
            denseDecoderGrad(f, err);
            // f is no longer needed: it receives ∂L/∂h
            engine.jumpReluBackward(h, logTheta.value(), gF, eps, (float) (coeff / batch), f, logTheta.grad());
            denseEncoderGrads(f, err);
        }
        return new Parts(mse, coeff * l0, 0, l0, l0, 0, 0, 0);
    }

    @Override
    protected double[] trainingThresholds() {
        return LogThreshold.theta(download(logTheta.value()));
    }

    @Override
    protected ExportForm exportForm(float[] foldedThresholds) {
        return new ExportForm("jumprelu", foldedThresholds, 0);
    }

    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        facts.put("jumprelu_eps", cfg.jumpReluEps());
    }
}
