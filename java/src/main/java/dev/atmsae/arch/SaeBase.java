package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.GeometricMedian;
import dev.atmsae.core.Philox;
import dev.atmsae.core.Schedules;
import dev.atmsae.core.SparsityController;
import dev.atmsae.core.StateValues;
import dev.atmsae.core.TrainConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every architecture shares: the four SAELens parameters (encoder and decoder stored [n, d], see Engine), their
 * Adam moments, initialisation, the optimizer step (decoder-gradient projection where rows are unit norm, global
 * grad-norm clip, Adam with the scheduled lr, renormalisation), sparsity coefficient and dead-latent bookkeeping,
 * checkpoint state and the export fold. A subclass supplies {@link #forwardBackward} — forward, loss and every
 * parameter gradient for one batch — and its export form.
 *
 * <p>Gradient conventions: MSE = (1/B)·Σ_b‖x̂_b − x_b‖², so ∂/∂x̂ = (2/B)·err with err = x̂ − x; the b_dec gradient
 * gets both paths, (2/B)·Σ_b err_b through x̂ and −(Σ_b ∂/∂h_b)·W_enc through xc = x − b_dec.
 */
abstract class SaeBase implements Sae {
    protected final Engine engine;
    protected final TrainConfig cfg;
    protected final int d;
    protected final int n;
    protected final int batch;
    protected final Schedules schedules;
    protected final SparsityController sparsity;
    protected final DeadLatentTracker dead;
    protected final Param wEnc;
    protected final Param bEnc;
    protected final Param wDec;
    protected final Param bDec;
    private final List<Param> params = new ArrayList<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private long adamStep;

    /** Per-latent fire counts of the current batch (I32 [1, n]); the subclass accumulates into it. */
    protected final Tensor fires;
    private final int[] zeroCounts;
    protected final Tensor xc;
    protected final Tensor err;
    private Tensor onesCol;

    SaeBase(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        this.engine = engine;
        this.cfg = cfg;
        this.d = dIn;
        this.n = cfg.width();
        this.batch = cfg.batchSize();
        this.schedules = new Schedules(cfg, totalSteps);
        this.sparsity = new SparsityController(cfg, schedules);
        this.dead = new DeadLatentTracker(n, cfg.effectiveDeadWindowTokens(totalSteps));
        this.wEnc = param("W_enc", n, d);
        this.bEnc = param("b_enc", 1, n);
        this.wDec = param("W_dec", n, d);
        this.bDec = param("b_dec", 1, d);
        this.fires = own(engine.allocI32(1, n));
        this.zeroCounts = new int[n];
        this.xc = own(engine.allocF32(batch, d));
        this.err = own(engine.allocF32(batch, d));
        initialise(initSample);
    }

    protected final Param param(String name, int rows, int cols) {
        Param p = Param.allocate(engine, name, rows, cols);
        params.add(p);
        owned.add(p);
        return p;
    }

    protected final <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /**
     * Decoder rows: Philox normals (stream INIT_DECODER, index i·d + j, so independent of threads and engine) scaled
     * to {@code init_dec_norm}; encoder rows the same vectors (W_enc = W_decᵀ); then, for unit-norm architectures,
     * decoder rows renormalised to 1 (so ATM's encoder starts at norm 0.1 while its decoder is unit norm).
     * b_enc = 0; b_dec = geometric median of the sample (0 without one).
     */
    private void initialise(float[] initSample) {
        float[] w = new float[n * d];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            double[] row = new double[d];
            for (int j = 0; j < d; j++) {
                row[j] = Philox.gaussian(cfg.seed(), Philox.STREAM_INIT_DECODER, (long) i * d + j);
                ss += row[j] * row[j];
            }
            double f = cfg.initDecNorm() / Math.sqrt(ss);
            for (int j = 0; j < d; j++) {
                w[i * d + j] = (float) (row[j] * f);
            }
        }
        engine.upload(wEnc.value(), w);
        engine.upload(wDec.value(), w);
        if (kind().unitNormDecoder()) {
            engine.normalizeRows(wDec.value());
        }
        float[] b = new float[d];
        if (initSample != null && initSample.length >= d) {
            double[] median = GeometricMedian.of(initSample, d);
            for (int j = 0; j < d; j++) {
                b[j] = (float) median[j];
            }
        }
        engine.upload(bDec.value(), b);
    }

    // ------------------------------------------------------------------------------------------------ the step

    /** The per-architecture part of a step's metrics. */
    protected record Parts(double mse, double sparsityLoss, double auxLoss, double l0, double l0Masked,
                           double fracMaskable, double meanP, double theta, double reconLoss) {
        /** Parts whose trained reconstruction loss is the MSE itself (every architecture but Matryoshka). */
        Parts(double mse, double sparsityLoss, double auxLoss, double l0, double l0Masked, double fracMaskable,
              double meanP, double theta) {
            this(mse, sparsityLoss, auxLoss, l0, l0Masked, fracMaskable, meanP, theta, mse);
        }
    }

    /**
     * Forward, loss and all parameter gradients (written to each {@link Param#grad()}) for x [B, d]; accumulates this
     * batch's per-latent fire counts into {@link #fires}. {@code coeff} is the warmed-up sparsity coefficient.
     */
    protected abstract Parts forwardBackward(Tensor x, long step, double coeff);

    @Override
    public final StepMetrics trainStep(Tensor x, long step) {
        if (x.rows() != batch || x.cols() != d) {
            throw new IllegalArgumentException("batch is " + x.rows() + "x" + x.cols() + ", expected " + batch + "x" + d);
        }
        if (step < 1) {
            throw new IllegalArgumentException("step counts from 1, got " + step);
        }
        double coeff = sparsity.lambda() * schedules.sparsityWarmup(step);
        engine.upload(fires, zeroCounts);
        Parts parts = forwardBackward(x, step, coeff);
        double lr = schedules.lr(step);
        double gradNorm = optimizerStep(lr);
        dead.update(engine, fires, batch);
        sparsity.observe(step, parts.l0());
        double loss = parts.reconLoss() + parts.sparsityLoss() + cfg.auxKCoeff() * parts.auxLoss();
        return new StepMetrics(loss, parts.mse(), parts.sparsityLoss(), parts.auxLoss(), parts.l0(),
                parts.l0Masked(), parts.fracMaskable(), parts.meanP(), parts.theta(), dead.deadFraction(), coeff, lr,
                gradNorm);
    }

    @Override
    public final long inferenceForward(Tensor x, Tensor xhat) {
        if (x.rows() != batch || x.cols() != d || xhat.rows() != batch || xhat.cols() != d) {
            throw new IllegalArgumentException("inferenceForward takes [" + batch + ", " + d + "] batches");
        }
        return inference(x, xhat);
    }

    /** {@link #inferenceForward} after the shape check. */
    protected abstract long inference(Tensor x, Tensor xhat);

    /** Projection, clip, Adam, renormalisation. Returns the gradient norm before clipping. */
    private double optimizerStep(double lr) {
        if (kind().unitNormDecoder()) {
            engine.removeParallelComponent(wDec.value(), wDec.grad());
        }
        double ss = 0;
        for (Param p : params) {
            ss += engine.sumSquares(p.grad());
        }
        double norm = Math.sqrt(ss);
        float scale = norm > cfg.gradClip() ? (float) (cfg.gradClip() / norm) : 1.0f;
        adamStep++;
        for (Param p : params) {
            engine.adam(p.value(), p.grad(), p.m(), p.v(), (float) lr, (float) cfg.adamBeta1(),
                    (float) cfg.adamBeta2(), (float) cfg.adamEps(), adamStep, scale);
        }
        if (kind().unitNormDecoder()) {
            engine.normalizeRows(wDec.value());
        }
        return norm;
    }

    // ------------------------------------------------------------------------------------------------ dense helpers

    /** err = x̂ − x = f·W_dec + b_dec − x = f·W_dec − xc (one B×n×d product, no bias broadcast needed). */
    protected final void denseResidual(Tensor f, Tensor out) {
        engine.copy(xc, out);
        engine.gemm(false, false, 1f, f, wDec.value(), -1f, out);
    }

    /** gW_dec = (2/B)·fᵀ·err (one product). */
    protected final void denseDecoderGrad(Tensor f, Tensor residual) {
        engine.gemm(true, false, 2f / batch, f, residual, 0f, wDec.grad());
    }

    /** gW_enc = gHᵀ·xc (one product), g_b_enc = Σ_b gH, g_b_dec = (2/B)·Σ_b err − g_b_enc·W_enc. */
    protected final void denseEncoderGrads(Tensor gH, Tensor residual) {
        engine.gemm(true, false, 1f, gH, xc, 0f, wEnc.grad());
        engine.colSum(gH, 1f, bEnc.grad(), false);
        biasDecoderGrad(residual, 2f / batch);
    }

    /** g_b_dec = alpha·Σ_b residual − g_b_enc·W_enc; call after g_b_enc is final. */
    protected final void biasDecoderGrad(Tensor residual, float alpha) {
        engine.colSum(residual, alpha, bDec.grad(), false);
        biasDecoderEncoderPath();
    }

    /** g_b_dec −= g_b_enc·W_enc (b_dec's path through xc = x − b_dec); call after g_b_enc is final. */
    protected final void biasDecoderEncoderPath() {
        engine.gemm(false, false, -1f, bEnc.grad(), wEnc.value(), 1f, bDec.grad());
    }

    // ------------------------------------------------------------------------------------------------ sparse helpers

    /** err = x̂ − x with x̂ = Σ_j val_j·W_dec[idx_j] + b_dec decoded from the codes' nonzero entries (into xhat). */
    protected final void sparseResidual(SparseCodes codes, Tensor x, Tensor xhat, Tensor out) {
        engine.sparseDecode(codes, wDec.value(), bDec.value(), xhat);
        engine.residual(xhat, x, out);
    }

    /**
     * gW_dec = (2/B)·fᵀ·err from the entries (written), and gVal[j] = ∂MSE/∂val_j = (2/B)·⟨err_b, d_i⟩ at every
     * stored entry; gXhat receives (2/B)·err.
     */
    protected final void sparseDecoderGrad(SparseCodes codes, Tensor residual, Tensor gXhat, Tensor gVal) {
        engine.copy(residual, gXhat);
        engine.scale(gXhat, 2f / batch);
        engine.fill(wDec.grad(), 0f);
        engine.sparseDecodeBackward(codes, gXhat, wDec.value(), gVal, wDec.grad());
    }

    /** gW_enc and g_b_enc from ∂L/∂h at the entries (written), then g_b_dec (see {@link #denseEncoderGrads}). */
    protected final void sparseEncoderGrads(SparseCodes codes, Tensor gPre, Tensor residual) {
        engine.fill(wEnc.grad(), 0f);
        engine.fill(bEnc.grad(), 0f);
        engine.sparseEncoderBackward(codes, gPre, xc, wEnc.grad(), bEnc.grad());
        biasDecoderGrad(residual, 2f / batch);
    }

    /** x̂ = ones·b_dec + f·W_dec for dense codes f [B, n] (inference). */
    protected final void denseDecode(Tensor f, Tensor xhat) {
        engine.gemm(false, false, 1f, ones(f.rows()), bDec.value(), 0f, xhat);
        engine.gemm(false, false, 1f, f, wDec.value(), 1f, xhat);
    }

    private Tensor ones(int rows) {
        if (onesCol == null || onesCol.rows() != rows) {
            if (onesCol != null) {
                onesCol.close();
            }
            onesCol = engine.allocF32(rows, 1);
            engine.fill(onesCol, 1f);
        }
        return onesCol;
    }

    /** Σ of a [1, n] tensor on the host, in float64 (through {@code buffer}, which must hold t.size() floats). */
    protected final double hostSum(Tensor t, float[] buffer) {
        engine.download(t, buffer);
        double s = 0;
        for (float x : buffer) {
            s += x;
        }
        return s;
    }

    // ------------------------------------------------------------------------------------------------ state

    @Override
    public final Map<String, Tensor> stateTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Param p : params) {
            m.put(p.name(), p.value());
            m.put(p.name() + ".adam_m", p.m());
            m.put(p.name() + ".adam_v", p.v());
        }
        return m;
    }

    @Override
    public final Map<String, Object> stateScalars() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", kind().id());
        m.put("adam_step", adamStep);
        sparsity.putState(m);
        dead.putState(m);
        putExtraState(m);
        return m;
    }

    @Override
    public final void restoreScalars(Map<String, Object> s) {
        Object arch = s.get("arch");
        if (arch != null && !kind().id().equals(arch.toString())) {
            throw new IllegalArgumentException("checkpoint state is for " + arch + ", this SAE is " + kind().id());
        }
        adamStep = StateValues.l(s, "adam_step");
        sparsity.restoreState(s);
        dead.restoreState(s);
        restoreExtraState(s);
    }

    protected void putExtraState(Map<String, Object> out) {
    }

    protected void restoreExtraState(Map<String, Object> in) {
    }

    @Override
    public final double sparsityCoeff() {
        return sparsity.lambda();
    }

    @Override
    public final TrainConfig config() {
        return cfg;
    }

    @Override
    public final int dIn() {
        return d;
    }

    @Override
    public final int width() {
        return n;
    }

    // ------------------------------------------------------------------------------------------------ export

    /** The SAELens architecture, folded per-latent thresholds (or null) and k of the export. */
    protected record ExportForm(String architecture, float[] threshold, int k) {
    }

    /**
     * Per-latent inference thresholds in training units (jumprelu θ, BatchTopK's global θ), or null where the
     * architecture has none.
     */
    protected double[] trainingThresholds() {
        return null;
    }

    /** Chooses the SAELens form given the folded thresholds (null when {@link #trainingThresholds()} is null). */
    protected abstract ExportForm exportForm(float[] foldedThresholds);

    /** Architecture-specific facts for metadata.atmsae. */
    protected void putExportFacts(Map<String, Object> facts) {
    }

    /**
     * Folds input scale s and decoder norms (saelens-format.md). With c_i = ‖d_i‖/s: W_dec'_i = d_i/‖d_i‖,
     * W_enc'[:, i] = s·c_i·w_i, b_enc'_i = c_i·b_enc_i, θ'_i = c_i·θ_i, b_dec' = b_dec/s. Then for raw x,
     * h'_i = c_i·h_i(s·x), f'_i = c_i·f_i and x̂' = x̂(s·x)/s: the exported SAE reconstructs raw activations exactly
     * as the trained one does scaled ones. (TopK's order is kept because its rows are unit norm: c_i = 1/s for all i.)
     */
    @Override
    public final SaeWeights export(float inputScale, Map<String, Object> metadata) {
        double s = inputScale;
        float[] we = download(wEnc.value());
        float[] be = download(bEnc.value());
        float[] wd = download(wDec.value());
        float[] bd = download(bDec.value());
        double[] thr = trainingThresholds();
        float[] wEncOut = new float[d * n];
        float[] bEncOut = new float[n];
        float[] wDecOut = new float[n * d];
        float[] bDecOut = new float[d];
        float[] thrOut = thr == null ? null : new float[n];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                norm += (double) wd[i * d + j] * wd[i * d + j];
            }
            norm = Math.sqrt(norm);
            double c = norm > 0 ? norm / s : 1.0 / s;
            double rowScale = norm > 0 ? 1.0 / norm : 1.0;
            for (int j = 0; j < d; j++) {
                wDecOut[i * d + j] = (float) (wd[i * d + j] * rowScale);
                wEncOut[j * n + i] = (float) (s * c * we[i * d + j]);
            }
            bEncOut[i] = (float) (c * be[i]);
            if (thrOut != null) {
                thrOut[i] = (float) (c * thr[i]);
            }
        }
        for (int j = 0; j < d; j++) {
            bDecOut[j] = (float) (bd[j] / s);
        }
        ExportForm form = exportForm(thrOut);
        Map<String, Object> meta = new LinkedHashMap<>(metadata == null ? Map.of() : metadata);
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("arch", kind().id());
        facts.put("config", cfg.toMap());
        facts.put("input_scale", (double) inputScale);
        facts.put("final_sparsity_coeff", sparsity.lambda());
        facts.put("adam_steps", adamStep);
        facts.put("dead_fraction", dead.deadFraction());
        putExportFacts(facts);
        meta.put("atmsae", facts);
        return new SaeWeights(form.architecture(), d, n, wEncOut, bEncOut, wDecOut, bDecOut, form.threshold(),
                form.k(), meta);
    }

    protected final float[] download(Tensor t) {
        float[] v = new float[(int) t.size()];
        engine.download(t, v);
        return v;
    }

    @Override
    public void close() {
        if (onesCol != null) {
            onesCol.close();
        }
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
