package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * The TopK family (TopK, BatchTopK): codes selected per step into CSR {@link SparseCodes}, decode and its backward
 * touching only the selected latents, and AuxK (Gao et al. 2024; architectures.md): with D the dead latents and
 * k_aux = min(d/2, |D|, aux_k_cap), ê = ReLU(TopK_{k_aux} of h over D)·W_dec (no b_dec), e = stopgrad(x − x̂),
 * L_aux = Σ_b‖ê_b − e_b‖² / Σ_b‖e_b − ē‖², total = MSE + α·L_aux. Unit-norm decoder rows.
 *
 * <p>With arch = atm ({@code atm_base} topk or batchtopk) the decoder trains on ATM-masked codes
 * ({@link SparseCodeMasking}); selection, inference, AuxK and the export stay the base's.
 *
 * <p>Products per step: one dense B×n×d (encode); decode, ∂W_dec and ∂W_enc are B×k×d gathers/scatters, AuxK adds
 * three B×k_aux×d ones.
 */
abstract class SparseCodeSae extends SaeBase {
    protected final Tensor h;
    protected final SparseCodes codes;
    private final Tensor xhat;
    private final Tensor gXhat;
    /** ∂loss/∂(code value) per entry of {@link #codes} (F32 [1, capacity]), written by {@link #reconstruct}. */
    protected final Tensor gVal;
    private final int kAuxMax;
    private final SparseCodes auxCodes;
    private final Tensor gValAux;
    private final Tensor deadMask;
    private final Tensor auxDiff;
    private final Tensor colD;
    /** ATM's mask on this base (arch = atm with atm_base topk/batchtopk); null for the plain architecture. */
    protected final SparseCodeMasking atm;

    SparseCodeSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        int capacity = batch * cfg.k();
        h = own(engine.allocF32(batch, n));
        codes = own(SparseCodes.allocate(engine, batch, capacity));
        xhat = own(engine.allocF32(batch, d));
        gXhat = own(engine.allocF32(batch, d));
        gVal = own(engine.allocF32(1, capacity));
        kAuxMax = Math.min(Math.min(d / 2, n), cfg.auxKCap());
        auxCodes = own(SparseCodes.allocate(engine, batch, Math.max(1, batch * kAuxMax)));
        gValAux = own(engine.allocF32(1, Math.max(1, batch * kAuxMax)));
        deadMask = own(engine.allocI32(1, n));
        auxDiff = own(engine.allocF32(batch, d));
        colD = own(engine.allocF32(1, d));
        atm = cfg.arch() == ArchKind.ATM ? own(new SparseCodeMasking(engine, cfg, codes, n, d)) : null;
    }

    /** Fills {@link #codes} from {@link #h} for training; returns nothing (L0 is measured by {@link #inferenceL0}). */
    protected abstract void selectCodes(long step);

    /** Inference-time mean L0 of the batch whose pre-activations are in h. */
    protected abstract double inferenceL0();

    @Override
    protected final Parts forwardBackward(Tensor x, long step, double coeff) {
        engine.encodePre(x, bDec.value(), wEnc.value(), bEnc.value(), xc, h);
        selectCodes(step);
        engine.countFiresSparse(codes, fires);
        if (atm == null) {
            engine.fill(wDec.grad(), 0f);
            engine.fill(wEnc.grad(), 0f);
            engine.fill(bEnc.grad(), 0f);
            Reconstruction r = reconstruct(x);
            double mse = r.errSq() / batch;
            double l0 = inferenceL0();
            engine.sparseReluMask(codes, gVal);
            engine.sparseEncoderBackward(codes, gVal, xc, wEnc.grad(), bEnc.grad());
            double aux = auxK(r.errSq());
            biasDecoderEncoderPath();
            return new Parts(mse, 0, aux, l0, l0, 0, 0, thetaForMetrics(), r.loss());
        }
        return atmStep(x, step);
    }

    /**
     * The step with ATM's mask on this base's codes (atm_base topk/batchtopk/matryoshka): the decoder trains on the
     * masked codes through the base's own reconstruction loss ({@link #decoderLoss}); AuxK and the statistics keep the
     * unmasked residual err.
     */
    private Parts atmStep(Tensor x, long step) {
        engine.sparseDecode(codes, wDec.value(), bDec.value(), xhat);
        engine.residual(xhat, x, err);
        double errSq = engine.sumSquares(err);
        double l0 = inferenceL0();
        SparseCodeMasking.Step trained = atm.apply(x, step, schedules.maskRate(step), err, wDec.value(), bDec.value(), wDec.grad());
        double l0Trained = trained.masked() ? (double) engine.countPositive(trained.codes().val()) / batch : l0;

        engine.fill(wDec.grad(), 0f);
        engine.fill(wEnc.grad(), 0f);
        engine.fill(bEnc.grad(), 0f);
        Reconstruction r = decoderLoss(x, trained.codes(), trained.residual());
        engine.sparseReluMask(trained.codes(), gVal);
        atm.gradient(trained, gVal, step);
        engine.sparseEncoderBackward(trained.codes(), gVal, xc, wEnc.grad(), bEnc.grad());
        double aux = auxK(errSq);
        biasDecoderEncoderPath();
        AtmStatistics stats = atm.mask().statistics();
        return new Parts(r.errSq() / batch, 0, aux, l0, l0Trained, (double) stats.maskableCount() / n, stats.meanP(),
                stats.theta(), r.loss());
    }

    /** ATM's facts for metadata.atmsae (nothing for the plain architecture); subclasses call it from theirs. */
    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        if (atm != null) {
            atm.putExportFacts(facts, schedules.maskStart(), schedules.maskRamp());
        }
    }

    @Override
    protected void putExtraState(Map<String, Object> out) {
        if (atm != null) {
            atm.mask().putState(out);
        }
    }

    @Override
    protected void restoreExtraState(Map<String, Object> in) {
        if (atm != null) {
            atm.mask().restoreState(in);
        }
    }

    /** The kind: the base's, or ATM when the mask is on. */
    protected final ArchKind kindOr(ArchKind base) {
        return cfg.arch() == ArchKind.ATM ? ArchKind.ATM : base;
    }

    /**
     * The reconstruction loss that is trained and what it leaves: {@code loss} (differentiated) and {@code errSq}
     * = Σ_b‖x̂_b − x_b‖² of the full-width reconstruction.
     */
    protected record Reconstruction(double loss, double errSq) {
    }

    /** Decodes {@link #codes} into the full-width residual {@link #err} and returns {@link #decoderLoss} of it. */
    protected final Reconstruction reconstruct(Tensor x) {
        engine.sparseDecode(codes, wDec.value(), bDec.value(), xhat);
        engine.residual(xhat, x, err);
        return decoderLoss(x, codes, err);
    }

    /**
     * The reconstruction loss of {@code trainCodes} (the codes, or ATM's masked codes: same rows and indices) whose
     * full-width residual x̂ − x is already in {@code residual}, and its gradients: {@link #gVal} (per code entry),
     * W_dec's (accumulated into the zeroed grad) and b_dec's decoder path (written; the encoder path is added later).
     * Here the loss is MSE = (1/B)·Σ_b‖x̂_b − x_b‖²; Matryoshka adds its prefix losses.
     */
    protected Reconstruction decoderLoss(Tensor x, SparseCodes trainCodes, Tensor residual) {
        double errSq = engine.sumSquares(residual);
        engine.copy(residual, gXhat);
        engine.scale(gXhat, 2f / batch);
        engine.sparseDecodeBackward(trainCodes, gXhat, wDec.value(), gVal, wDec.grad());
        engine.colSum(residual, 2f / batch, bDec.grad(), false);
        return new Reconstruction(errSq / batch, errSq);
    }

    protected double thetaForMetrics() {
        return 0;
    }

    /** Adds AuxK's gradients (scaled by α) to W_dec, W_enc, b_enc; returns L_aux (before α), 0 when skipped. */
    private double auxK(double errSq) {
        int kAux = Math.min(kAuxMax, dead.deadCount());
        if (kAux == 0 || cfg.auxKCoeff() == 0) {
            return 0;
        }
        engine.colSum(err, 1f, colD, false);
        double variance = errSq - engine.sumSquares(colD) / batch;
        if (!(variance > 0)) {
            return 0;
        }
        dead.uploadDeadMask(engine, deadMask);
        engine.topK(h, kAux, deadMask, auxCodes);
        engine.sparseDecode(auxCodes, wDec.value(), null, auxDiff);
        engine.axpy(1f, err, auxDiff); // ê − e with e = −err
        double aux = engine.sumSquares(auxDiff) / variance;
        engine.scale(auxDiff, (float) (2 * cfg.auxKCoeff() / variance));
        engine.sparseDecodeBackward(auxCodes, auxDiff, wDec.value(), gValAux, wDec.grad());
        engine.sparseReluMask(auxCodes, gValAux);
        engine.sparseEncoderBackward(auxCodes, gValAux, xc, wEnc.grad(), bEnc.grad());
        return aux;
    }
}
