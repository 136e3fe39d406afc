package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.core.TrainConfig;

/** Creates the {@link Sae} for a configuration. */
public final class SaeFactory {
    private SaeFactory() {
    }

    /**
     * @param dIn        input width d
     * @param totalSteps optimizer steps of the whole run (schedules and short-run rules depend on it)
     * @param initSample rows × dIn float32 values, already input-scaled, for the b_dec geometric median (null → 0)
     */
    public static Sae create(Engine engine, TrainConfig cfg, int dIn, long totalSteps, float[] initSample) {
        if (dIn < 1) {
            throw new IllegalArgumentException("dIn must be ≥ 1, got " + dIn);
        }
        return switch (cfg.arch()) {
            case ATM -> switch (cfg.sparsityKind()) {
                // ATM's mask on a base (atm_base)
                case TOPK -> new TopKSae(engine, cfg, dIn, totalSteps, initSample);
                case BATCHTOPK -> new BatchTopKSae(engine, cfg, dIn, totalSteps, initSample);
                case MATRYOSHKA -> new MatryoshkaSae(engine, cfg, dIn, totalSteps, initSample);
                case JUMPRELU -> new AtmJumpReluSae(engine, cfg, dIn, totalSteps, initSample);
                default -> new AtmSae(engine, cfg, dIn, totalSteps, initSample);
            };
            case TOPK -> new TopKSae(engine, cfg, dIn, totalSteps, initSample);
            case BATCHTOPK -> new BatchTopKSae(engine, cfg, dIn, totalSteps, initSample);
            case JUMPRELU -> new JumpReluSae(engine, cfg, dIn, totalSteps, initSample);
            case RELU -> new ReluSae(engine, cfg, dIn, totalSteps, initSample);
            case MATRYOSHKA -> new MatryoshkaSae(engine, cfg, dIn, totalSteps, initSample);
        };
    }
}
