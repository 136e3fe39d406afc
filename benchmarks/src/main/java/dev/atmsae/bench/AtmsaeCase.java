package dev.atmsae.bench;

import dev.atmsae.arch.Sae;
import dev.atmsae.arch.SaeFactory;
import dev.atmsae.arch.StepMetrics;
import dev.atmsae.core.ArchKind;
import dev.atmsae.core.Philox;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * One atmsae case of {@link TrainBench}: an SAE on the CPU engine with three rotated input batches, warmed up, whose
 * training steps are timed a few at a time between the peers' ({@link #measure}). Dense case: a fresh SAE's first
 * steps (about half the codes active; L1 λ = {@value #DENSE_L1} for relu and atm). Sparse case: b_enc shifted until
 * the inference L0 is within 5% of the target, and the lr {@value #FROZEN_LR}, so that L0 stays put while timing.
 */
final class AtmsaeCase implements AutoCloseable {
    static final double DENSE_L1 = 1e-3;
    /** The learning rate of the sparse cases: small enough that L0 does not drift during the measurement. */
    static final double FROZEN_LR = 1e-7;

    /** One timed stretch: the median step time, the mean L0 and whether ATM's mask was active. */
    record Measurement(double medianSeconds, double l0, boolean masked) {
    }

    private final Engine engine;
    private final ArchKind arch;
    private final Sae sae;
    private final Tensor[] xs = new Tensor[3];
    private long step;

    AtmsaeCase(Engine engine, ArchKind arch, boolean sparse, int d, int n, int batch, int k, double targetL0,
               int warmup) {
        this.engine = engine;
        this.arch = arch;
        Map<String, Object> m = new HashMap<>(Map.of("width", n, "k", Math.min(k, n), "batch_size", batch,
                "atm_mask_start", 0, "atm_mask_ramp", 1, "seed", 1));
        if (arch == ArchKind.RELU || arch == ArchKind.ATM) {
            m.put("l1_coeff", DENSE_L1);
        }
        if (sparse) {
            m.put("lr", FROZEN_LR);
        }
        TrainConfig cfg = TrainConfig.defaults(arch).with(m);
        long totalSteps = 1_000_000; // schedules stay in their steady phase during the measurement
        this.sae = SaeFactory.create(engine, cfg, d, totalSteps, null);
        float[] host = new float[batch * d];
        for (int b = 0; b < xs.length; b++) {
            for (int i = 0; i < host.length; i++) {
                host[i] = (float) Philox.gaussian(b + 1, Philox.STREAM_SYNTH, i);
            }
            xs[b] = engine.allocF32(batch, d);
            engine.upload(xs[b], host);
        }
        if (sparse) {
            try (Tensor xhat = engine.allocF32(batch, d)) {
                shiftToL0(xhat, n, batch, targetL0);
            }
        }
        for (int i = 0; i < warmup; i++) {
            sae.trainStep(xs[(int) (step % 3)], ++step);
        }
    }

    /** Times {@code steps} training steps. */
    Measurement measure(int steps) {
        double[] times = new double[steps];
        double l0 = 0;
        boolean masked = false;
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            StepMetrics s = sae.trainStep(xs[(int) (step % 3)], ++step);
            engine.synchronize();
            times[i] = (System.nanoTime() - t0) * 1e-9;
            if (!Double.isFinite(s.loss())) {
                throw new IllegalStateException(arch.id() + ": non-finite loss in the benchmark");
            }
            l0 += s.l0() / steps;
            masked |= s.fracMaskable() > 0;
        }
        return new Measurement(Spread.median(times), l0, masked);
    }

    /** Bisection on a uniform b_enc shift until the batch's inference L0 is within 5% of the target. */
    private void shiftToL0(Tensor xhat, int n, int batch, double target) {
        Tensor bEnc = sae.stateTensors().get("b_enc");
        float[] base = new float[n];
        engine.download(bEnc, base);
        float[] shifted = new float[n];
        double lo = -20;
        double hi = 0;
        for (int it = 0; it < 40; it++) {
            double mid = (lo + hi) / 2;
            for (int i = 0; i < n; i++) {
                shifted[i] = (float) (base[i] + mid);
            }
            engine.upload(bEnc, shifted);
            double l0 = (double) sae.inferenceForward(xs[0], xhat) / batch;
            if (Math.abs(l0 - target) <= 0.05 * target) {
                return;
            }
            if (l0 > target) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }

    @Override
    public void close() {
        for (Tensor t : xs) {
            if (t != null) {
                t.close();
            }
        }
        sae.close();
    }
}
