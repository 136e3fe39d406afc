package dev.atmsae.io;

import java.util.Map;

/**
 * An SAE in SAELens layout, on the heap, as exported or imported: the contract between training (which produces it),
 * {@code io.SaeExport} (which writes/reads the SAELens directory) and evaluation (which runs its forward function).
 *
 * <p>Shapes follow SAELens: {@code wEnc} [dIn, dSae] row-major, {@code bEnc} [dSae], {@code wDec} [dSae, dIn],
 * {@code bDec} [dIn], {@code threshold} [dSae] (jumprelu only, else null). {@code k} is set for topk only (else 0).
 * Inference semantics (saelens-format.md): h = (x − bDec)·wEnc + bEnc;
 * standard: f = ReLU(h); topk: f = ReLU(TopK_k(h)); jumprelu: f = ReLU(h)·1[h &gt; threshold]; x̂ = f·wDec + bDec.
 *
 * @param architecture "standard", "topk" or "jumprelu"
 * @param metadata     extra cfg.json facts (model, hook, atmsae training facts) as plain JSON-able values
 */
public record SaeWeights(String architecture, int dIn, int dSae, float[] wEnc, float[] bEnc, float[] wDec,
                         float[] bDec, float[] threshold, int k, Map<String, Object> metadata) {
    public SaeWeights {
        if (wEnc.length != (long) dIn * dSae || wDec.length != (long) dIn * dSae || bEnc.length != dSae
                || bDec.length != dIn || (threshold != null && threshold.length != dSae)) {
            throw new IllegalArgumentException("SaeWeights: tensor sizes do not match d_in=" + dIn + ", d_sae=" + dSae);
        }
    }
}
