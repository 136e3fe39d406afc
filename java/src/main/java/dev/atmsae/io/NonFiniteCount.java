package dev.atmsae.io;

/**
 * How many values of a float array are NaN or ±Inf, and where the first one is: what the readers of weights and
 * arrays say when they refuse one (a corrupted export or a bad conversion otherwise gives plausible-looking results).
 *
 * @param nan   NaN values
 * @param inf   +Inf and −Inf values
 * @param total values examined
 * @param first index of the first non-finite value, −1 when there is none
 */
record NonFiniteCount(long nan, long inf, long total, long first) {
    static NonFiniteCount of(float[] values) {
        long nan = 0;
        long inf = 0;
        long first = -1;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (!Float.isFinite(v)) {
                if (Float.isNaN(v)) {
                    nan++;
                } else {
                    inf++;
                }
                if (first < 0) {
                    first = i;
                }
            }
        }
        return new NonFiniteCount(nan, inf, values.length, first);
    }

    boolean any() {
        return first >= 0;
    }

    /** E.g. "3 non-finite values (1 NaN, 2 Inf) of 96". */
    String describe() {
        long bad = nan + inf;
        return bad + " non-finite value" + (bad == 1 ? "" : "s") + " (" + nan + " NaN, " + inf + " Inf) of " + total;
    }
}
