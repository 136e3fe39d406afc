package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.TrainConfig;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Matryoshka BatchTopK (Bussmann, Nabeshima, Karvonen &amp; Nanda 2025; architectures.md): BatchTopK codes over the
 * whole dictionary, whose latents are cut into M contiguous groups ({@code matryoshka_groups}); every prefix of groups
 * must reconstruct on its own. Loss = Σ_m w_m·(1/B)·Σ_b‖x − x̂_m‖² with x̂_m = b_dec + Σ_{latents in groups ≤ m} f·d
 * (+ AuxK on the full-width residual, as BatchTopK). {@code matryoshka_loss}: {@code equal} w_m = 1/M
 * (dictionary_learning; default), {@code saelens} w_m = 1 (full-width MSE plus each inner prefix's MSE).
 * Everything else — θ, inference, unit-norm decoder rows, the jumprelu export — is {@link BatchTopKSae}'s.
 *
 * <p>Cost: the codes' CSR rows are split at the group boundaries (no copy of idx/val), so one sparse decode yields
 * every group's contribution [B·M, d] and one sparse backward every entry's gradient; the prefix residuals and the
 * per-group gradients (suffix sums of the weighted residuals) are O(M·B·d) passes. No full decode per group.
 */
final class MatryoshkaSae extends BatchTopKSae {
    private final int[] groupEnds;
    private final double[] weights;
    private final Tensor groupEndsTensor;
    private final SparseCodes groupCodes;
    private final Tensor prefixErr;
    private final Tensor prefixGrad;
    private final Tensor gradWeights;
    private final Tensor biasWeights;
    private final Tensor rowSquares;
    private final float[] hostRowSquares;
    /** The split view over ATM's masked values (atm_base = matryoshka), made at the first masked step. */
    private SparseCodes maskedGroupCodes;

    MatryoshkaSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        groupEnds = cfg.matryoshkaGroupEnds();
        int groups = groupEnds.length;
        weights = new double[groups];
        Arrays.fill(weights, TrainConfig.MATRYOSHKA_SAELENS.equals(cfg.matryoshkaLoss()) ? 1.0 : 1.0 / groups);
        groupEndsTensor = own(engine.allocI32(1, groups));
        engine.upload(groupEndsTensor, groupEnds);
        Tensor splitRowPtr = own(engine.allocI32(1, batch * groups + 1));
        // shares idx/val with the BatchTopK codes: only the row pointer is Matryoshka's (closed through own above)
        groupCodes = new SparseCodes(splitRowPtr, codes.idx(), codes.val(), batch * groups, codes.capacity());
        prefixErr = own(engine.allocF32(batch * groups, d));
        prefixGrad = own(engine.allocF32(batch * groups, d));
        float[] perGroup = new float[groups];
        float[] perRow = new float[batch * groups];
        for (int m = 0; m < groups; m++) {
            perGroup[m] = (float) (2 * weights[m] / batch);
        }
        for (int r = 0; r < perRow.length; r++) {
            perRow[r] = perGroup[r % groups];
        }
        gradWeights = own(engine.allocF32(1, groups));
        engine.upload(gradWeights, perGroup);
        biasWeights = own(engine.allocF32(1, batch * groups));
        engine.upload(biasWeights, perRow);
        rowSquares = own(engine.allocF32(1, batch * groups));
        hostRowSquares = new float[batch * groups];
    }

    @Override
    public ArchKind kind() {
        return kindOr(ArchKind.MATRYOSHKA);
    }

    /**
     * prefixErr[b·M + m] = x̂_m − x (group contributions by one split decode, then prefix sums; {@code residual}
     * receives the full-width one); the gradient of Σ_m w_m·(1/B)Σ_b‖x̂_m − x‖² w.r.t. group m's decoded part is
     * G_m = Σ_{m' ≥ m} (2w_{m'}/B)·prefixErr_{m'}, which the split backward turns into gVal and ∂W_dec; b_dec's
     * decoder path is Σ_m (2w_m/B)·Σ_b prefixErr_m. With ATM on this base {@code trainCodes} are the masked codes:
     * the same rows and indices, so the same split row pointers over their values.
     */
    @Override
    protected Reconstruction decoderLoss(Tensor x, SparseCodes trainCodes, Tensor residual) {
        SparseCodes split = splitView(trainCodes);
        engine.splitRowsAtGroups(trainCodes, groupEndsTensor, split.rowPtr());
        engine.sparseDecode(split, wDec.value(), null, prefixErr);
        engine.prefixResiduals(prefixErr, xc, residual);
        engine.weightedSuffixSum(prefixErr, gradWeights, prefixGrad);
        engine.sparseDecodeBackward(split, prefixGrad, wDec.value(), gVal, wDec.grad());
        engine.gemm(false, false, 1f, biasWeights, prefixErr, 0f, bDec.grad());
        engine.rowSumSquares(prefixErr, rowSquares);
        engine.download(rowSquares, hostRowSquares);
        int groups = groupEnds.length;
        double[] groupSq = new double[groups];
        for (int r = 0; r < hostRowSquares.length; r++) {
            groupSq[r % groups] += hostRowSquares[r];
        }
        double loss = 0;
        for (int m = 0; m < groups; m++) {
            loss += weights[m] * groupSq[m] / batch;
        }
        return new Reconstruction(loss, groupSq[groups - 1]);
    }

    /** The group-split view over the values of {@code trainCodes}: the codes' own, or (once made) ATM's masked ones. */
    private SparseCodes splitView(SparseCodes trainCodes) {
        if (trainCodes.val() == codes.val()) {
            return groupCodes;
        }
        if (maskedGroupCodes == null || maskedGroupCodes.val() != trainCodes.val()) {
            maskedGroupCodes = new SparseCodes(groupCodes.rowPtr(), codes.idx(), trainCodes.val(), batch * groupEnds.length,
                    codes.capacity());
        }
        return maskedGroupCodes;
    }

    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        super.putExportFacts(facts);
        Map<String, Object> m = new LinkedHashMap<>();
        int[] sizes = new int[groupEnds.length];
        for (int g = 0; g < sizes.length; g++) {
            sizes[g] = groupEnds[g] - (g == 0 ? 0 : groupEnds[g - 1]);
        }
        m.put("trained_as", "matryoshka_batchtopk");
        m.put("group_sizes", sizes);
        m.put("group_ends", groupEnds.clone());
        m.put("loss", cfg.matryoshkaLoss());
        m.put("loss_weights", weights.clone());
        facts.put("matryoshka", m);
    }
}
