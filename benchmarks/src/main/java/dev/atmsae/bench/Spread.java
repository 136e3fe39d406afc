package dev.atmsae.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Median, minimum and maximum of repeated measurements: how {@code make bench} reports every figure that was taken
 * more than once (targets are judged on the median; the range shows how far a shared machine moved it).
 */
record Spread(double median, double min, double max, int count) {
    static Spread of(List<Double> values) {
        if (values.isEmpty()) {
            return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        return new Spread(median(v), Arrays.stream(v).min().orElseThrow(), Arrays.stream(v).max().orElseThrow(),
                v.length);
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    boolean present() {
        return count > 0;
    }

    /** E.g. "1.07× (0.98–1.12)" with {@code format} "%.2f" and {@code unit} "×". */
    String format(String format, String unit) {
        if (!present()) {
            return "–";
        }
        String m = String.format(Locale.ROOT, format, median) + unit;
        return count == 1 ? m : m + " (" + String.format(Locale.ROOT, format, min) + "–"
                + String.format(Locale.ROOT, format, max) + ")";
    }
}
