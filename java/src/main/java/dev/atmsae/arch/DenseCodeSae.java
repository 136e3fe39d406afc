package dev.atmsae.arch;

import dev.atmsae.engine.ActiveEntryKernels;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

/**
 * The dense-code family (ReLU, ATM, JumpReLU): codes f [B, n] are an elementwise activation of the pre-activations
 * h, so training forward and inference share one encode → activate → decode path. A subclass supplies the
 * activation and, in {@link #forwardBackward}, its loss and backward (the sparse-code counterpart is
 * {@link SparseCodeSae}).
 *
 * <p>Two paths per training step, chosen by the batch's data alone. Where the engine has
 * {@link ActiveEntryKernels} and the batch's active entries (those its backward needs, see {@link #supportFloor})
 * are at most {@link #SPARSE_MAX_DENSITY} of B·n, they are gathered into {@link #active} and decode, ∂W_dec, ∂W_enc
 * and the per-latent sums run on them (as TopK's do); otherwise every product is dense. Only the encoder product is
 * dense on both. The choice depends on an integer count of the data, never on threads, so a resumed run takes the
 * same path at every step; the two paths agree up to float32 rounding (ArchGradientTest checks both against the
 * float64 reference).
 */
abstract class DenseCodeSae extends SaeBase {
    /**
     * The largest fraction of active entries that takes the sparse path: below it the entry-wise kernels beat the
     * dense products they replace (docs/decisions.md has the measurement); codes start near 50% dense and reach
     * about 0.5% (L0 32 of 6144) once the sparsity penalty has done its work.
     */
    static final double SPARSE_MAX_DENSITY = 1.0 / 16;

    /** Pre-activations h [B, n] of the current batch. */
    protected final Tensor h;
    /** Codes f = activation(h) [B, n] of the current batch. */
    protected final Tensor f;
    /** The engine's active-entry kernels, or null where it has none (then every step is dense). */
    protected final ActiveEntryKernels activeKernels;
    /** The current batch's active entries, valid when {@link #sparseStep()}; capacity ⌊SPARSE_MAX_DENSITY·B·n⌋. */
    protected final SparseCodes active;
    /** Sparse-path buffers: x̂ [B, d], (2/B)·err [B, d] and a per-entry value [1, capacity]. */
    protected final Tensor decoded, gXhat, gVal;
    private boolean sparseStep;

    DenseCodeSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        h = own(engine.allocF32(batch, n));
        f = own(engine.allocF32(batch, n));
        if (engine instanceof ActiveEntryKernels kernels) {
            activeKernels = kernels;
            int capacity = (int) Math.max(1, Math.floor(SPARSE_MAX_DENSITY * batch * (double) n));
            active = own(SparseCodes.allocate(engine, batch, capacity));
            decoded = own(engine.allocF32(batch, d));
            gXhat = own(engine.allocF32(batch, d));
            gVal = own(engine.allocF32(1, capacity));
        } else {
            activeKernels = null;
            active = null;
            decoded = null;
            gXhat = null;
            gVal = null;
        }
    }

    /** f = activation(h), elementwise. */
    protected abstract void activate(Tensor h, Tensor f);

    /**
     * The per-latent floor [1, n] above which a pre-activation is an active entry of this step, or null for "f &gt; 0"
     * (ReLU, ATM). Called once per training step, before the gather, when the engine has active-entry kernels.
     */
    protected Tensor supportFloor() {
        return null;
    }

    /**
     * Whether this architecture's step has an active-entry path; one that trains densely only (ATM on the JumpReLU
     * base) says false, so no step gathers entries it would not use.
     */
    protected boolean trainsOnActiveEntries() {
        return true;
    }

    /** Whether the current step runs on the active entries (decided in {@link #forwardToResidual}). */
    protected final boolean sparseStep() {
        return sparseStep;
    }

    /**
     * The training forward up to the residual: h, f, the path of this step, this batch's fire counts (into
     * {@link #fires}) and err = x̂ − x (into {@link #err}). Returns the batch's mean L0 of f.
     */
    protected final double forwardToResidual(Tensor x) {
        engine.encodePre(x, bDec.value(), wEnc.value(), bEnc.value(), xc, h);
        activate(h, f);
        sparseStep = activeKernels != null && trainsOnActiveEntries()
                && activeKernels.gatherActive(f, h, supportFloor(), active) <= active.capacity();
        long positive;
        if (sparseStep) {
            engine.countFiresSparse(active, fires);
            positive = engine.countPositive(active.val());
            sparseResidual(active, x, decoded, err);
        } else {
            engine.countFires(f, fires);
            positive = engine.countPositive(f);
            denseResidual(f, err);
        }
        return (double) positive / batch;
    }

    @Override
    protected final long inference(Tensor x, Tensor xhat) {
        engine.encodePre(x, bDec.value(), wEnc.value(), bEnc.value(), xc, h);
        activate(h, f);
        denseDecode(f, xhat);
        return engine.countPositive(f);
    }
}
