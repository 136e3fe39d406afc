package dev.atmsae.core;

/**
 * Step-dependent multipliers (architectures.md, "Common training machinery"), pure functions of the step (from 1):
 * linear LR warm-up, linear LR decay to 0 over the last {@code lr_decay_frac} of the run, linear sparsity-coefficient
 * warm-up from 0, and ATM's mask-rate ramp (atm.md step 9). Holding no state keeps resumed runs exact.
 */
public final class Schedules {
    private final double lr;
    private final long warmupSteps;
    private final long decaySteps;
    private final long totalSteps;
    private final long sparsityWarmupSteps;
    private final long maskStart;
    private final long maskRamp;
    private final double maskRate;
    private final boolean cosineRamp;

    public Schedules(TrainConfig cfg, long totalSteps) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("totalSteps must be ≥ 1, got " + totalSteps);
        }
        this.lr = cfg.effectiveLr();
        this.totalSteps = totalSteps;
        this.warmupSteps = cfg.effectiveLrWarmupSteps(totalSteps);
        this.decaySteps = Math.round(cfg.lrDecayFrac() * totalSteps);
        this.sparsityWarmupSteps = Math.round(cfg.sparsityWarmupFrac() * totalSteps);
        this.maskStart = cfg.effectiveMaskStart(totalSteps);
        this.maskRamp = cfg.effectiveMaskRamp(totalSteps);
        this.maskRate = cfg.atmMaskRate();
        this.cosineRamp = "cosine".equals(cfg.atmMaskSchedule());
    }

    /** Learning rate for step t: lr·min(1, t/warm-up)·min(1, (T − t + 1)/decay steps). */
    public double lr(long step) {
        double f = 1.0;
        if (warmupSteps > 0) {
            f = Math.min(f, (double) step / warmupSteps);
        }
        if (decaySteps > 0) {
            f = Math.min(f, Math.max(0.0, (double) (totalSteps - step + 1) / decaySteps));
        }
        return lr * f;
    }

    /** Multiplier of the sparsity coefficient: min(1, t / warm-up steps). */
    public double sparsityWarmup(long step) {
        return sparsityWarmupSteps == 0 ? 1.0 : Math.min(1.0, (double) step / sparsityWarmupSteps);
    }

    /** Last step of the sparsity warm-up (0 when there is none). */
    public long sparsityWarmupSteps() {
        return sparsityWarmupSteps;
    }

    /**
     * ATM mask rate r_t: 0 up to mask_start, then to r over mask_ramp steps, linearly or (atm_mask_schedule = cosine)
     * along r·(1 − cos(π·x))/2, x the ramp's progress: the gentler shape starts and ends with zero slope.
     */
    public double maskRate(long step) {
        if (step <= maskStart) {
            return 0.0;
        }
        double x = maskRamp == 0 ? 1.0 : Math.min(1.0, (double) (step - maskStart) / maskRamp);
        return maskRate * (cosineRamp ? 0.5 * (1 - Math.cos(Math.PI * x)) : x);
    }

    public long maskStart() {
        return maskStart;
    }

    public long maskRamp() {
        return maskRamp;
    }

    public long totalSteps() {
        return totalSteps;
    }
}
