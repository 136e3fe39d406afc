package dev.atmsae.browse;

/**
 * Exact fixed-bin histograms of positive values in one pass without knowing the maximum: each latent's bins cover
 * [0, R) in {@link #BINS} equal steps, and a value ≥ R doubles R by merging neighbouring bins. R starts at the first
 * value's next power of two, so it ends within (max, 2·max]. Each latent must be touched by one thread at a time.
 */
final class DoublingHistogram {
    static final int BINS = 64;
    private final int[] counts;
    private final double[] range;

    DoublingHistogram(int latents) {
        counts = new int[latents * BINS];
        range = new double[latents];
    }

    void add(int j, double v) {
        if (range[j] == 0) {
            range[j] = Math.scalb(1.0, Math.getExponent(v) + 1);
        }
        while (v >= range[j]) {
            int base = j * BINS;
            for (int b = 0; b < BINS / 2; b++) {
                counts[base + b] = counts[base + 2 * b] + counts[base + 2 * b + 1];
            }
            java.util.Arrays.fill(counts, base + BINS / 2, base + BINS, 0);
            range[j] *= 2;
        }
        int bin = (int) (v / range[j] * BINS);
        counts[j * BINS + Math.min(BINS - 1, bin)]++;
    }

    /** Upper edge of latent {@code j}'s last bin (0 when it never fired). */
    double range(int j) {
        return range[j];
    }

    /** Latent {@code j}'s counts, trimmed after the last non-empty bin. */
    int[] counts(int j) {
        int base = j * BINS, last = -1;
        for (int b = 0; b < BINS; b++) {
            if (counts[base + b] > 0) {
                last = b;
            }
        }
        return java.util.Arrays.copyOfRange(counts, base, base + last + 1);
    }
}
