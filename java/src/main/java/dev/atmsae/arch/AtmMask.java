package dev.atmsae.arch;

import dev.atmsae.engine.ActiveEntryKernels;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * ATM's mask machinery shared by every base (atm.md steps 2–7 and its open choices): the host statistics
 * ({@link AtmStatistics}), the engine tensors holding one step's draw probabilities and rescale factors, and the
 * mask applied to dense or sparse codes and to their gradients.
 *
 * <ul>
 *   <li>{@code atm_mask_mode = token} (atm.md): entry (b, i) is masked when u(seed, step, b, i) &lt; p_i.</li>
 *   <li>{@code latent}: one draw per latent and step, u_i = u(seed, step, {@link #LATENT_TOKEN}, i) (a token index no
 *       batch row reaches); latent i is masked on every token of the batch when u_i &lt; p_i. Realised by drawing
 *       with probability 1 (masked) or 0 (kept), so the engines' token kernels apply it unchanged and any thread
 *       count gives the same mask.</li>
 *   <li>{@code atm_rescale}: kept codes × s_i = 1/(1 − p_i) (s_i = 0 where p_i = 1: that latent is always masked,
 *       and 0 keeps 0·∞ out of the products). The gradient of a kept entry carries the same factor.</li>
 * </ul>
 */
final class AtmMask implements AutoCloseable {
    /** The Philox token index of the per-latent draws (2³² − 1; batch rows count from 0). */
    static final long LATENT_TOKEN = 0xFFFF_FFFFL;

    private final Engine engine;
    private final TrainConfig cfg;
    private final int n;
    private final AtmStatistics stats;
    private final boolean latentMode;
    private final Tensor drawP;
    private final Tensor scale;
    private final float[] hostDraw;
    private final float[] hostScale;
    private final Tensor dNormSq;
    private final Tensor statA, statQ, statR;
    private final float[] hostA, hostQ, hostR;

    AtmMask(Engine engine, TrainConfig cfg, int n) {
        this.engine = engine;
        this.cfg = cfg;
        this.n = n;
        this.stats = new AtmStatistics(cfg, n);
        this.latentMode = "latent".equals(cfg.atmMaskMode());
        this.drawP = engine.allocF32(1, n);
        this.scale = cfg.atmRescale() ? engine.allocF32(1, n) : null;
        this.hostDraw = new float[n];
        this.hostScale = new float[n];
        this.dNormSq = engine.allocF32(1, n);
        this.statA = engine.allocF32(1, n);
        this.statQ = engine.allocF32(1, n);
        this.statR = engine.allocF32(1, n);
        this.hostA = new float[n];
        this.hostQ = new float[n];
        this.hostR = new float[n];
    }

    AtmStatistics statistics() {
        return stats;
    }

    /** Whether step t (from 1) measures new statistics ({@code atm_stats_every}). */
    boolean statisticsStep(long step) {
        return (step - 1) % cfg.atmStatsEvery() == 0;
    }

    /**
     * Statistics of a dense code f (atm.md step 2): E = −err·W_decᵀ into {@code eDotD} (err = x̂ − x of the unmasked
     * code), a, q, ρ on the engine, then the host EMAs, importance, θ and p with mask rate r.
     */
    void updateDense(Tensor f, Tensor err, Tensor wDec, Tensor eDotD, double rate) {
        engine.gemm(false, true, -1f, err, wDec, 0f, eDotD);
        engine.rowSumSquares(wDec, dNormSq);
        engine.atmStats(f, eDotD, dNormSq, statA, statQ, statR);
        engine.download(statA, hostA);
        engine.download(statQ, hostQ);
        engine.download(statR, hostR);
        stats.update(hostA, hostQ, hostR, rate);
    }

    /**
     * {@link #updateDense} on sparse batches: E_{b,i} = ⟨e_b, d_i⟩ only at the active entries of f (ρ multiplies it
     * by f, which is 0 elsewhere), sampled into {@code dots} (one value per entry), then the same statistics.
     */
    void updateActive(ActiveEntryKernels kernels, SparseCodes active, Tensor err, Tensor wDec, Tensor dots,
                      double rate) {
        engine.rowSumSquares(wDec, dNormSq);
        kernels.sampledDots(active, err, wDec, -1f, dots);
        kernels.sparseAtmStats(active, dots, dNormSq, statA, statQ, statR);
        engine.download(statA, hostA);
        engine.download(statQ, hostQ);
        engine.download(statR, hostR);
        stats.update(hostA, hostQ, hostR, rate);
    }

    /** ‖d_i‖² of the decoder rows (for statistics computed on the host). */
    float[] decoderNormsSquared(Tensor wDec, float[] out) {
        engine.rowSumSquares(wDec, dNormSq);
        engine.download(dNormSq, out);
        return out;
    }

    /** Folds statistics measured elsewhere (sparse codes) into the EMAs. */
    void update(float[] a, float[] q, float[] rho, double rate) {
        stats.update(a, q, rho, rate);
    }

    /** Between statistics steps: I and θ stay, p follows the scheduled rate. */
    void recompute(double rate) {
        stats.recompute(rate);
    }

    /** Latents with p &gt; 0 (0: the step trains the unmasked code). */
    int maskableCount() {
        return stats.maskableCount();
    }

    /** Uploads step t's draw probabilities (and rescale factors); call when {@link #maskableCount()} &gt; 0. */
    void prepare(long step) {
        double[] p = stats.p();
        for (int i = 0; i < n; i++) {
            float pi = (float) p[i];
            hostDraw[i] = !latentMode ? pi
                    : pi > 0f && Philox.maskUniform(cfg.seed(), step, LATENT_TOKEN, i) < pi ? 1f : 0f;
            hostScale[i] = p[i] < 1 ? (float) (1.0 / (1.0 - p[i])) : 0f;
        }
        engine.upload(drawP, hostDraw);
        if (scale != null) {
            engine.upload(scale, hostScale);
        }
    }

    /** out = mask(f) (× s with rescaling) for a dense code [B, n]. */
    void maskDense(Tensor f, long step, Tensor out) {
        engine.atmMask(f, drawP, cfg.seed(), step, 0L, out);
        scaleDense(out);
    }

    /** g ← mask(g) (× s): the gradient w.r.t. the unmasked code from the gradient w.r.t. the masked one. */
    void maskDenseGradient(Tensor g, long step) {
        maskDense(g, step, g);
    }

    /** t ← t × s per latent (nothing without rescaling): for gradients already zero where masked. */
    void scaleDense(Tensor t) {
        if (scale != null) {
            engine.scaleColumns(t, scale);
        }
    }

    /** out = mask(values) (× s) over the entries of sparse codes; also applied to their gradients. */
    void maskSparse(SparseCodes codes, Tensor values, long step, Tensor out) {
        engine.atmMaskSparse(codes, values, drawP, scale, cfg.seed(), step, 0L, out);
    }

    boolean rescales() {
        return scale != null;
    }

    /** Latents whose final p reaches {@code atm_eval_gate_p}, when the gate is on (else none). */
    boolean[] gatedLatents() {
        boolean[] gated = new boolean[n];
        if ("gate".equals(cfg.atmEvalMask())) {
            double[] p = stats.p();
            for (int i = 0; i < n; i++) {
                gated[i] = p[i] >= cfg.atmEvalGateP();
            }
        }
        return gated;
    }

    /** Sets the gated latents' folded thresholds to Float.MAX_VALUE (they can never fire); returns the array. */
    float[] gate(float[] foldedThresholds) {
        boolean[] gated = gatedLatents();
        for (int i = 0; i < n; i++) {
            if (gated[i]) {
                foldedThresholds[i] = Float.MAX_VALUE;
            }
        }
        return foldedThresholds;
    }

    void putExportFacts(Map<String, Object> facts, long maskStart, long maskRamp) {
        int aboveGate = 0;
        for (double v : stats.p()) {
            if (v >= cfg.atmEvalGateP()) {
                aboveGate++;
            }
        }
        int gated = 0;
        for (boolean g : gatedLatents()) {
            gated += g ? 1 : 0;
        }
        facts.put("atm_base", cfg.atmBase());
        facts.put("atm_mask_mode", cfg.atmMaskMode());
        facts.put("atm_rescale", cfg.atmRescale());
        facts.put("atm_eval_mask", cfg.atmEvalMask());
        facts.put("atm_gated_latents", gated);
        facts.put("atm_latents_above_gate_p", aboveGate);
        facts.put("atm_final_theta", stats.theta());
        facts.put("atm_final_mean_p", stats.meanP());
        facts.put("atm_mask_start_steps", maskStart);
        facts.put("atm_mask_ramp_steps", maskRamp);
    }

    void putState(Map<String, Object> out) {
        stats.putState(out);
    }

    void restoreState(Map<String, Object> in) {
        stats.restoreState(in);
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {drawP, scale, dNormSq, statA, statQ, statR}) {
            if (t != null) {
                t.close();
            }
        }
    }
}
