package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

/**
 * ReLU + L1, Anthropic April-2024 style (architectures.md): f = ReLU(h), loss = MSE + λ·(1/B)·Σ_b Σ_i f_{b,i}·‖d_i‖,
 * decoder norms free (the penalty carries them). Export: SAELens {@code standard}.
 *
 * <p>Dense products per step (each B×n×d): encode, decode, ∂f = err·W_decᵀ, ∂W_dec = fᵀ·err, ∂W_enc = ∂hᵀ·xc — 5;
 * on sparse batches ({@link DenseCodeSae}) only the encode, the other four running on the active entries.
 * Plus O(n·d): ‖d_i‖ (row sums of squares) and the penalty's ∂/∂d_i = λ/B·(Σ_b f_{b,i})·d_i/‖d_i‖.
 */
final class ReluSae extends DenseCodeSae {
    private final Tensor gF;
    private final Tensor perLatent;
    private final Tensor l1Grad;
    private final RowScaler rowScaler;
    /** Host buffers for the O(n) per-step traffic (allocation-free steps). */
    private final float[] normSq, fSum, gradF, gradRow;

    ReluSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        gF = own(engine.allocF32(batch, n));
        perLatent = own(engine.allocF32(1, n));
        l1Grad = own(engine.allocF32(1, n));
        rowScaler = own(new RowScaler(engine, n));
        normSq = new float[n];
        fSum = new float[n];
        gradF = new float[n];
        gradRow = new float[n];
    }

    @Override
    public ArchKind kind() {
        return ArchKind.RELU;
    }

    @Override
    protected void activate(Tensor h, Tensor f) {
        engine.relu(h, f);
    }

    @Override
    protected Parts forwardBackward(Tensor x, long step, double coeff) {
        double l0 = forwardToResidual(x);
        double mse = engine.sumSquares(err) / batch;

        engine.rowSumSquares(wDec.value(), perLatent);
        engine.download(perLatent, normSq);
        if (sparseStep()) {
            activeKernels.sparseColSum(active, perLatent);
        } else {
            engine.colSum(f, 1f, perLatent, false);
        }
        engine.download(perLatent, fSum);
        double penalty = 0;
        for (int i = 0; i < n; i++) {
            double norm = Math.sqrt(normSq[i]);
            penalty += norm * fSum[i];
            gradF[i] = (float) (coeff / batch * norm);
            gradRow[i] = norm > 0 ? (float) (coeff / batch * fSum[i] / norm) : 0f;
        }
        engine.upload(l1Grad, gradF);

        if (sparseStep()) {
            sparseDecoderGrad(active, err, gXhat, gVal);
            rowScaler.addScaledRows(gradRow, wDec.value(), wDec.grad());
            activeKernels.sparseReluBackward(active, l1Grad, gVal);
            sparseEncoderGrads(active, gVal, err);
        } else {
            engine.gemm(false, true, 2f / batch, err, wDec.value(), 0f, gF);
            denseDecoderGrad(f, err);
            rowScaler.addScaledRows(gradRow, wDec.value(), wDec.grad());
            engine.reluBackward(f, gF, l1Grad, h);
            denseEncoderGrads(h, err);
        }
        return new Parts(mse, coeff / batch * penalty, 0, l0, l0, 0, 0, 0);
    }

    @Override
    protected ExportForm exportForm(float[] foldedThresholds) {
        return new ExportForm("standard", null, 0);
    }
}
