package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.train.TrainConfig;

/**
 * The dense-code family (ReLU, ATM, JumpReLU): codes f [B, n] are an elementwise activation of the pre-activations
 * h, so training forward and inference share one encode → activate → decode path. A subclass supplies the
 * activation and, in {@link #forwardBackward}, its loss and backward (the sparse-code counterpart is
 * {@link SparseCodeSae}).
 */
abstract class DenseCodeSae extends SaeBase {
    /** Pre-activations h [B, n] of the current batch. */
    protected final Tensor h;
    /** Codes f = activation(h) [B, n] of the current batch. */
    protected final Tensor f;

    DenseCodeSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        h = own(engine.allocF32(batch, n));
        f = own(engine.allocF32(batch, n));
    }

    /** f = activation(h), elementwise. */
    protected abstract void activate(Tensor h, Tensor f);

    /**
     * The training forward up to the residual: h, f, this batch's fire counts (into {@link #fires}) and
     * err = x̂ − x (into {@link #err}). Returns the batch's mean L0 of f.
     */
    protected final double forwardToResidual(Tensor x) {
        engine.encodePre(x, bDec.value(), wEnc.value(), bEnc.value(), xc, h);
        activate(h, f);
        engine.countFires(f, fires);
        double l0 = (double) engine.countPositive(f) / batch;
        denseResidual(f, err);
        return l0;
    }

    @Override
    protected final long inference(Tensor x, Tensor xhat) {
        engine.encodePre(x, bDec.value(), wEnc.value(), bEnc.value(), xc, h);
        activate(h, f);
        denseDecode(f, xhat);
        return engine.countPositive(f);
    }
}
