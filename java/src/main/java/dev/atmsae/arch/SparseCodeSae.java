package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.train.TrainConfig;

/**
 * The TopK family (TopK, BatchTopK): codes selected per step into CSR {@link SparseCodes}, decode and its backward
 * touching only the selected latents, and AuxK (Gao et al. 2024; architectures.md): with D the dead latents and
 * k_aux = min(d/2, |D|, aux_k_cap), ê = ReLU(TopK_{k_aux} of h over D)·W_dec (no b_dec), e = stopgrad(x − x̂),
 * L_aux = Σ_b‖ê_b − e_b‖² / Σ_b‖e_b − ē‖², total = MSE + α·L_aux. Unit-norm decoder rows.
 *
 * <p>Products per step: one dense B×n×d (encode); decode, ∂W_dec and ∂W_enc are B×k×d gathers/scatters, AuxK adds
 * three B×k_aux×d ones.
 */
abstract class SparseCodeSae extends SaeBase {
    protected final Tensor h;
    protected final SparseCodes codes;
    private final Tensor xhat;
    private final Tensor gXhat;
    private final Tensor gVal;
    private final int kAuxMax;
    private final SparseCodes auxCodes;
    private final Tensor gValAux;
    private final Tensor deadMask;
    private final Tensor auxDiff;
    private final Tensor colD;

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
        sparseResidual(codes, x, xhat, err);
        double errSq = engine.sumSquares(err);
        double mse = errSq / batch;
        double l0 = inferenceL0();

        sparseDecoderGrad(codes, err, gXhat, gVal);
        engine.fill(wEnc.grad(), 0f);
        engine.fill(bEnc.grad(), 0f);
        engine.sparseReluMask(codes, gVal);
        engine.sparseEncoderBackward(codes, gVal, xc, wEnc.grad(), bEnc.grad());
        double aux = auxK(errSq);
        biasDecoderGrad(err, 2f / batch);
        return new Parts(mse, 0, aux, l0, l0, 0, 0, thetaForMetrics());
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
