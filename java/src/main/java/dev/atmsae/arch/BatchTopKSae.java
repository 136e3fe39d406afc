package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.StateValues;
import dev.atmsae.core.TrainConfig;

import java.util.Arrays;
import java.util.Map;

/**
 * BatchTopK (Bussmann et al. 2024): training keeps the k·B largest entries of ReLU(h) over the whole batch; the
 * inference threshold θ is an EMA (rate {@code batchtopk_theta_rate}, float64 on the host, started at the first
 * batch's value [choice: a zero start would bias θ low for ~1/rate steps]) of the smallest kept value per batch.
 * Inference: f = ReLU(h)·1[h &gt; θ]. Export: SAELens {@code jumprelu} with threshold θ (folded) for every latent.
 * Products: see {@link SparseCodeSae}, plus an elementwise B×n threshold pass for the inference L0.
 * With arch = atm, atm_base = batchtopk: trained on ATM-masked codes; {@code atm_eval_mask = gate} exports the gated
 * latents with threshold Float.MAX_VALUE.
 */
class BatchTopKSae extends SparseCodeSae {
    private final Tensor logTheta;
    private final Tensor dense;
    private final float[] hostLogTheta;
    private double theta;
    private boolean thetaStarted;

    BatchTopKSae(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        super(engine, cfg, dIn, totalSteps, initSample);
        logTheta = own(engine.allocF32(1, n));
        dense = own(engine.allocF32(batch, n));
        hostLogTheta = new float[n];
    }

    @Override
    public ArchKind kind() {
        return kindOr(ArchKind.BATCHTOPK);
    }

    /** The inference threshold θ in training units. */
    double theta() {
        return theta;
    }

    @Override
    protected void selectCodes(long step) {
        float kept = engine.batchTopK(h, cfg.k() * batch, codes);
        if (kept > 0) {
            double rate = cfg.batchTopKThetaRate();
            theta = thetaStarted ? (1 - rate) * theta + rate * kept : kept;
            thetaStarted = true;
        }
    }

    private void applyThreshold() {
        Arrays.fill(hostLogTheta, theta > 0 ? (float) Math.log(theta) : Float.NEGATIVE_INFINITY);
        engine.upload(logTheta, hostLogTheta);
        engine.jumpRelu(h, logTheta, dense);
    }

    @Override
    protected double inferenceL0() {
        applyThreshold();
        return (double) engine.countPositive(dense) / batch;
    }

    @Override
    protected double thetaForMetrics() {
        return theta;
    }

    @Override
    protected long inference(Tensor x, Tensor xhat) {
        engine.encodePre(x, bDec.value(), wEnc.value(), bEnc.value(), xc, h);
        applyThreshold();
        denseDecode(dense, xhat);
        return engine.countPositive(dense);
    }

    @Override
    protected double[] trainingThresholds() {
        double[] t = new double[n];
        Arrays.fill(t, theta);
        return t;
    }

    @Override
    protected ExportForm exportForm(float[] foldedThresholds) {
        return new ExportForm("jumprelu", atm == null ? foldedThresholds : atm.mask().gate(foldedThresholds), 0);
    }

    @Override
    protected void putExportFacts(Map<String, Object> facts) {
        super.putExportFacts(facts);
        facts.put("k", cfg.k());
        facts.put("batchtopk_theta", theta);
    }

    @Override
    protected void putExtraState(Map<String, Object> out) {
        super.putExtraState(out);
        out.put("batchtopk_theta", theta);
        out.put("batchtopk_theta_started", thetaStarted);
    }

    @Override
    protected void restoreExtraState(Map<String, Object> in) {
        super.restoreExtraState(in);
        theta = StateValues.d(in, "batchtopk_theta");
        Object started = in.get("batchtopk_theta_started");
        thetaStarted = started != null && Boolean.parseBoolean(started.toString());
    }
}
