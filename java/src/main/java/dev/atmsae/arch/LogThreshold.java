package dev.atmsae.arch;

import dev.atmsae.core.TrainConfig;

/**
 * The JumpReLU threshold θ_i = exp(t_i), trained through its log t so that it stays positive: one definition for
 * {@link JumpReluSae} and ATM on a JumpReLU base ({@link AtmJumpReluSae}).
 */
final class LogThreshold {
    private LogThreshold() {
    }

    /** The [1, n] parameter t, registered on {@code sae} and set to log θ_init. */
    static Param create(SaeBase sae, TrainConfig cfg, int n) {
        Param logTheta = sae.param("log_threshold", 1, n);
        sae.engine.fill(logTheta.value(), (float) Math.log(cfg.jumpReluThetaInit()));
        return logTheta;
    }

    /** θ = exp(t) in float64, from the downloaded t. */
    static double[] theta(float[] logTheta) {
        double[] theta = new double[logTheta.length];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = Math.exp(logTheta[i]);
        }
        return theta;
    }
}
