package dev.atmsae.core;

import java.util.Map;

/**
 * The sparsity coefficient λ and its target-L0 controller (architectures.md, "Sparsity control"): with a target L,
 * after each step λ ← λ·exp(η·clip((L0_ema − L)/L, −1, 1)), L0_ema an EMA (rate 1 − {@code l0_ctrl_ema}, started at
 * the first observation) of the batch's inference-time L0. The controller runs from the end of the sparsity warm-up
 * [choice: during the warm-up L0 is high only because λ is still ramping, and reacting to it would inflate λ] to
 * {@code l0_ctrl_active_frac}·T, then λ is frozen. The coefficient used at step t is λ·warm-up(t).
 */
public final class SparsityController {
    private final Double target;
    private final double eta;
    private final double emaKeep;
    private final long firstStep;
    private final long lastStep;
    private double lambda;
    private double l0Ema = Double.NaN;

    public SparsityController(TrainConfig cfg, Schedules schedules) {
        this.target = cfg.targetL0();
        this.eta = cfg.l0CtrlEta();
        this.emaKeep = cfg.l0CtrlEma();
        this.firstStep = schedules.sparsityWarmupSteps() + 1;
        this.lastStep = (long) Math.floor(cfg.l0CtrlActiveFrac() * schedules.totalSteps());
        this.lambda = cfg.baseSparsityCoeff();
    }

    /** λ before warm-up. */
    public double lambda() {
        return lambda;
    }

    public double l0Ema() {
        return l0Ema;
    }

    /** Feeds the inference-time L0 of step t (after the step used λ); updates λ when the controller is active. */
    public void observe(long step, double l0) {
        l0Ema = Double.isNaN(l0Ema) ? l0 : emaKeep * l0Ema + (1 - emaKeep) * l0;
        if (target != null && step >= firstStep && step <= lastStep && lambda > 0) {
            double rel = Math.max(-1.0, Math.min(1.0, (l0Ema - target) / target));
            lambda *= Math.exp(eta * rel);
        }
    }

    public void putState(Map<String, Object> out) {
        out.put("sparsity_lambda", lambda);
        out.put("sparsity_l0_ema", l0Ema);
    }

    public void restoreState(Map<String, Object> in) {
        lambda = StateValues.d(in, "sparsity_lambda");
        l0Ema = StateValues.d(in, "sparsity_l0_ema");
    }
}
