package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * TopK + AuxK (Gao et al. 2024): f = ReLU(TopK_k(h)) per token. Export: SAELens {@code topk} with k (decoder rows
 * are unit norm, so the fold scales every latent alike and keeps the TopK order). Products: see {@link SparseCodeSae}.
 * With arch = atm, atm_base = topk: the same SAE trained on ATM-masked codes (kind ATM, export still {@code topk}).
 */
final class TopKSae extends SparseCodeSae {
    TopKSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
    }

    @Override
    public ArchKind kind() {
        return kindOr(ArchKind.TOPK);
    }

    @Override
    protected void selectCodes(long step) {
        engine.topK(h, cfg.k(), null, codes);
    }

    @Override
    protected double inferenceL0() {
        return (double) engine.countPositive(codes.val()) / batch;
    }

    @Override
    protected long inference(Tensor x, Tensor xhat) {
        engine.encodePre(x, bDec.value(), wEnc.value(), bEnc.value(), xc, h);
        engine.topK(h, cfg.k(), null, codes);
        engine.sparseDecode(codes, wDec.value(), bDec.value(), xhat);
        return engine.countPositive(codes.val());
    }

    @Override
    protected ExportForm exportForm(float[] foldedThresholds) {
        return new ExportForm("topk", null, cfg.k());
    }

    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        super.putExportFacts(facts);
        facts.put("k", cfg.k());
    }
}
