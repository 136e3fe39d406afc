package dev.atmsae.gpucheck;

import dev.atmsae.arch.Sae;
import dev.atmsae.arch.SaeFactory;
import dev.atmsae.arch.StepMetrics;
import dev.atmsae.core.ArchKind;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * The long run: two engines train the same SAE (same config, same Philox init, the same batch at every step) for many
 * steps, and their curves are compared. Unlike {@link StepParity} the weights are not compared (float rounding
 * compounds over a thousand Adam steps); what must agree is what a user would read off the curves.
 *
 * <p>Tolerances, stated: the final loss, the mean of the last {@link #window} steps' loss, within
 * {@link #FINAL_LOSS_REL} relative; the L0 trajectory, as means over consecutive windows of {@link #window} steps,
 * within {@link #L0_REL} relative plus {@link #L0_ABS} latents in every window. Validated without a GPU by running
 * two differently-built CPU engines through it (LongRunParityTest).
 */
public final class LongRunParity {
    /** Final-loss tolerance (FP32 on both sides). */
    public static final double FINAL_LOSS_REL = 0.01;
    public static final double L0_REL = 0.05;
    public static final double L0_ABS = 0.5;

    /** The shape and length of a run; k applies to topk/batchtopk/atm and sets the sparsity of the others' data. */
    public record Shape(int d, int n, int batch, int k, int steps) {
        /** Steps per averaging window: a twentieth of the run, at least 1 and at most 50. */
        public int window() {
            return Math.max(1, Math.min(50, steps / 20));
        }
    }

    /** Per-step curves of one engine. */
    public record Curves(double[] loss, double[] mse, double[] l0, double seconds) {
    }

    /** One architecture's comparison: both engines' curves, the compared figures and the verdict. */
    public record Result(ArchKind arch, Shape shape, String nameA, Curves a, String nameB, Curves b,
                         double finalLossA, double finalLossB, double finalLossRel, double worstL0Diff,
                         int worstL0Window, String failure) {
        public boolean passed() {
            return failure.isEmpty();
        }
    }

    private LongRunParity() {
    }

    /** Trains {@code arch} on both engines from the same seed on {@code batches.apply(step)} ([batch, d] floats). */
    public static Result compare(Engine a, Engine b, ArchKind arch, Shape shape, LongFunction<float[]> batches) {
        TrainConfig cfg = config(arch, shape);
        float[] first = batches.apply(0);
        Curves ca = train(a, cfg, shape, first, batches);
        Curves cb = train(b, cfg, shape, first, batches);
        return judge(arch, shape, a.name(), ca, b.name(), cb);
    }

    /** The verdict on two sets of curves (separate so tests can feed it curves directly). */
    static Result judge(ArchKind arch, Shape shape, String nameA, Curves a, String nameB, Curves b) {
        int w = shape.window();
        int steps = a.loss().length;
        double fa = mean(a.loss(), steps - w, steps), fb = mean(b.loss(), steps - w, steps);
        double rel = Math.abs(fa - fb) / Math.max(Math.abs(fa), Math.abs(fb));
        StringBuilder failure = new StringBuilder();
        if (!(rel <= FINAL_LOSS_REL)) {
            failure.append(String.format("final loss %.6g vs %.6g (%.3g%% apart, bound %.3g%%)", fa, fb, 100 * rel,
                    100 * FINAL_LOSS_REL));
        }
        double worst = 0;
        int worstWindow = 0;
        String l0Failure = "";
        for (int start = 0, win = 0; start < steps; start += w, win++) {
            int end = Math.min(steps, start + w);
            double la = mean(a.l0(), start, end), lb = mean(b.l0(), start, end);
            double diff = Math.abs(la - lb);
            if (diff > worst) {
                worst = diff;
                worstWindow = win;
            }
            if (l0Failure.isEmpty() && !(diff <= L0_REL * Math.max(la, lb) + L0_ABS)) {
                l0Failure = String.format("L0 over steps %d-%d: %.4g vs %.4g (bound %.0f%% + %.1f)", start + 1, end, la,
                        lb, 100 * L0_REL, L0_ABS);
            }
        }
        if (!l0Failure.isEmpty()) {
            failure.append(failure.isEmpty() ? "" : "; ").append(l0Failure);
        }
        return new Result(arch, shape, nameA, a, nameB, b, fa, fb, rel, worst, worstWindow, failure.toString());
    }

    static TrainConfig config(ArchKind arch, Shape shape) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch.id());
        m.put("width", shape.n());
        m.put("k", shape.k());
        m.put("batch_size", shape.batch());
        return TrainConfig.fromMap(m);
    }

    private static Curves train(Engine e, TrainConfig cfg, Shape shape, float[] first, LongFunction<float[]> batches) {
        int steps = shape.steps();
        double[] loss = new double[steps], mse = new double[steps], l0 = new double[steps];
        long t0 = System.nanoTime();
        try (Sae sae = SaeFactory.create(e, cfg, shape.d(), steps, first); Tensor x = e.allocF32(shape.batch(), shape.d())) {
            for (int s = 0; s < steps; s++) {
                e.upload(x, s == 0 ? first : batches.apply(s));
                StepMetrics m = sae.trainStep(x, s + 1);
                loss[s] = m.loss();
                mse[s] = m.mse();
                l0[s] = m.l0();
            }
            e.synchronize();
        }
        return new Curves(loss, mse, l0, (System.nanoTime() - t0) / 1e9);
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }
}
