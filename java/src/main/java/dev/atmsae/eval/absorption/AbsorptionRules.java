package dev.atmsae.eval.absorption;

/**
 * The per-sample absorption rules of absorption.md §4.3 (new fraction, SAEBench ≥ v0.4.1), §4.5 (legacy fraction,
 * SAEBench v0.3.0–v0.4.0) and §4.4 (full absorption), on precomputed quantities:
 * {@code act[i]} = a_i (latent activation), {@code cos[i]} = cos(d_i, p̂), proj_i = a_i·‖d_i‖·cos_i is passed
 * in {@code proj} (with unit-norm decoder rows proj_i = a_i·cos_i), {@code a} = A = x·p̂ of the raw activation.
 * Inputs are the latents of one sample restricted to those that fire (inactive latents contribute proj = 0 and can
 * neither be absorbers nor the top-projecting latent unless all projections are ≤ 0).
 */
public final class AbsorptionRules {
    public static final String RULE_VERSION =
            "atmsae-absorption/1: fraction=SAEBench>=v0.4.1 (PR#62; cos>=0.1, T/A>=0.4, <=3 absorbers); "
                    + "legacy=SAEBench v0.3.0-v0.4.0 (PR#48); full=SAEBench (cos>=0.025, proj/A>=0.4, main<1e-8)";
    public static final double FRACTION_COS = 0.1;
    public static final double PROPORTION = 0.4;
    public static final int MAX_ABSORBERS = 3;
    public static final double FULL_COS = 0.025;
    public static final double NOT_FIRING = 1e-8;

    private AbsorptionRules() {
    }

    /** One sample's latents: parallel arrays over the firing latents, {@code isMain[t]} marks main latents. */
    public record Sample(int[] latent, double[] act, double[] cos, double[] proj, boolean[] isMain, double a) {
        public double mainProjection() {
            double m = 0;
            for (int t = 0; t < latent.length; t++) {
                if (isMain[t]) {
                    m += proj[t];
                }
            }
            return m;
        }
    }

    /** §4.3 absorption fraction. A ≤ 0 (including A == 0, which Python would divide by) scores 0. */
    public static double fraction(Sample s) {
        double a = s.a();
        double m = s.mainProjection();
        double t = topCandidateSum(s);
        if (a <= 0 || m >= a || t / a < PROPORTION) {
            return 0;
        }
        if (m <= 0) {
            return 1;
        }
        double u = Math.min(t, a - m);
        return clip01(u / (u + m));
    }

    /** Latents counted in T of §4.3 (≤ 3 largest proj among non-main, cos ≥ 0.1, proj &gt; 0), largest first. */
    public static int[] absorbers(Sample s) {
        return java.util.stream.IntStream.range(0, s.latent().length)
                .filter(t -> !s.isMain()[t] && s.cos()[t] >= FRACTION_COS && s.proj()[t] > 0)
                .boxed().sorted((x, y) -> Double.compare(s.proj()[y], s.proj()[x]))
                .limit(MAX_ABSORBERS).mapToInt(t -> s.latent()[t]).toArray();
    }

    private static double topCandidateSum(Sample s) {
        double[] top = java.util.stream.IntStream.range(0, s.latent().length)
                .filter(t -> !s.isMain()[t] && s.cos()[t] >= FRACTION_COS && s.proj()[t] > 0)
                .mapToDouble(t -> s.proj()[t]).boxed().sorted((x, y) -> Double.compare(y, x))
                .limit(MAX_ABSORBERS).mapToDouble(Double::doubleValue).toArray();
        double sum = 0;
        for (double v : top) {
            sum += v;
        }
        return sum;
    }

    /** §4.5 legacy fraction: (ALL − M)/ALL, 0 if M ≥ A or ALL ≤ 0. */
    public static double legacyFraction(Sample s) {
        double all = 0;
        for (double p : s.proj()) {
            all += p;
        }
        double m = s.mainProjection();
        if (m >= s.a() || all <= 0) {
            return 0;
        }
        return clip01((all - m) / all);
    }

    /**
     * §4.4 full absorption: main latents all below 1e-8, and the top-projecting latent t (over all latents) has
     * cos ≥ 0.025 and proj_t/A ≥ 0.4 with A ≥ 0 (A == 0 → false: the ratio is undefined).
     * {@code mainActs} are the activations of every main latent (including silent ones).
     */
    public static boolean full(Sample s, double[] mainActs) {
        for (double v : mainActs) {
            if (v >= NOT_FIRING) {
                return false;
            }
        }
        int top = topLatentIndex(s);
        if (top < 0 || s.a() <= 0) {
            return false;
        }
        return s.cos()[top] >= FULL_COS && s.proj()[top] / s.a() >= PROPORTION;
    }

    /** Position (in the sample arrays) of the largest proj, or −1 if no latent fires. */
    public static int topLatentIndex(Sample s) {
        int best = -1;
        for (int t = 0; t < s.latent().length; t++) {
            if (best < 0 || s.proj()[t] > s.proj()[best]) {
                best = t;
            }
        }
        return best;
    }

    private static double clip01(double v) {
        return Math.max(0, Math.min(1, v));
    }
}
