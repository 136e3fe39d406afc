package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * ATM's mask on a TopK-family code (arch = atm, atm_base = topk or batchtopk; {@link SparseCodeSae} calls it). The
 * selection is the base's; training decodes the masked codes, inference the unmasked ones.
 *
 * <p>Statistics (atm.md step 2) come from the unmasked codes: only active entries contribute to a, q and ρ, and
 * ρ needs ⟨e_b, d_i⟩ for those entries alone, which one sparse decode-backward gives (B·k·d instead of the dense
 * B·n·d). The per-latent sums run on the host in float64 over the O(B·k) entries in entry order, so they are
 * identical for every thread count and engine; a statistics step moves rowPtr, idx, val and ⟨err, d⟩ to the host.
 * Mask and rescaling use {@link Engine#atmMaskSparse}, the same uniforms as the dense mask.
 */
final class SparseCodeMasking implements AutoCloseable {
    /** The codes and residual the decoder trains on this step; {@code masked} false = the unmasked ones. */
    record Step(SparseCodes codes, Tensor residual, boolean masked) {
    }

    private final Engine engine;
    private final int batch;
    private final int n;
    private final AtmMask mask;
    private final SparseCodes codes;
    private final SparseCodes maskedCodes;
    private final Tensor maskedVal;
    private final Tensor xhat;
    private final Tensor errMasked;
    private final Tensor errDotD;
    private final int[] hostRowPtr, hostIdx;
    private final float[] hostVal, hostErrDotD, hostNormSq, hostA, hostQ, hostR;

    SparseCodeMasking(Engine engine, TrainConfig cfg, SparseCodes codes, int n, int d) {
        this.engine = engine;
        this.batch = codes.batch();
        this.n = n;
        this.codes = codes;
        this.mask = new AtmMask(engine, cfg, n);
        this.maskedVal = engine.allocF32(1, codes.capacity());
        this.maskedCodes = new SparseCodes(codes.rowPtr(), codes.idx(), maskedVal, batch, codes.capacity());
        this.xhat = engine.allocF32(batch, d);
        this.errMasked = engine.allocF32(batch, d);
        this.errDotD = engine.allocF32(1, codes.capacity());
        this.hostRowPtr = new int[batch + 1];
        this.hostIdx = new int[codes.capacity()];
        this.hostVal = new float[codes.capacity()];
        this.hostErrDotD = new float[codes.capacity()];
        this.hostNormSq = new float[n];
        this.hostA = new float[n];
        this.hostQ = new float[n];
        this.hostR = new float[n];
    }

    AtmMask mask() {
        return mask;
    }

    /**
     * After the unmasked decode (err = x̂ − x): updates the statistics (statistics steps) or p, and when some latent
     * can be masked decodes the masked codes into their own residual. {@code scratchGrad} [n, d] receives garbage
     * (the decoder gradient buffer, zeroed by the caller afterwards).
     */
    Step apply(Tensor x, long step, double rate, Tensor err, Tensor wDec, Tensor bDec, Tensor scratchGrad) {
        if (mask.statisticsStep(step)) {
            engine.sparseDecodeBackward(codes, err, wDec, errDotD, scratchGrad);
            hostStatistics(wDec);
            mask.update(hostA, hostQ, hostR, rate);
        } else {
            mask.recompute(rate);
        }
        if (mask.maskableCount() == 0) {
            return new Step(codes, err, false);
        }
        mask.prepare(step);
        mask.maskSparse(codes, codes.val(), step, maskedVal);
        engine.sparseDecode(maskedCodes, wDec, bDec, xhat);
        engine.residual(xhat, x, errMasked);
        return new Step(maskedCodes, errMasked, true);
    }

    /** ∂L/∂val of the unmasked codes from ∂L/∂val of the masked ones: × s on kept entries (masked ones are 0). */
    void gradient(Step s, Tensor gVal, long step) {
        if (s.masked() && mask.rescales()) {
            mask.maskSparse(codes, gVal, step, gVal);
        }
    }

    /** a_i = Σ val/B, q_i = #(val &gt; 0)/B, ρ_i = max(0, Σ (val²‖d_i‖² − 2·val·⟨err, d_i⟩)/B) over latent i's entries. */
    private void hostStatistics(Tensor wDec) {
        engine.download(codes.rowPtr(), hostRowPtr);
        engine.download(codes.idx(), hostIdx);
        engine.download(codes.val(), hostVal);
        engine.download(errDotD, hostErrDotD);
        mask.decoderNormsSquared(wDec, hostNormSq);
        double[] a = new double[n], q = new double[n], r = new double[n];
        for (int j = 0, end = hostRowPtr[batch]; j < end; j++) {
            float v = hostVal[j];
            if (v > 0f) {
                int i = hostIdx[j];
                a[i] += v;
                q[i] += 1;
                r[i] += (double) v * v * hostNormSq[i] - 2.0 * v * hostErrDotD[j];
            }
        }
        for (int i = 0; i < n; i++) {
            hostA[i] = (float) (a[i] / batch);
            hostQ[i] = (float) (q[i] / batch);
            hostR[i] = (float) Math.max(0.0, r[i] / batch);
        }
    }

    void putExportFacts(Map<String, Object> facts, long maskStart, long maskRamp) {
        mask.putExportFacts(facts, maskStart, maskRamp);
    }

    @Override
    public void close() {
        mask.close();
        maskedVal.close();
        xhat.close();
        errMasked.close();
        errDotD.close();
    }
}
