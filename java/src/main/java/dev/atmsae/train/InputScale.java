package dev.atmsae.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The input scale s with E‖s·x‖ = √d (SAELens {@code expected_average_only_in}): s = √d / mean_b ‖x_b‖ over a
 * sample of rows, accumulated in float64. Training runs on s·x; export folds s back.
 */
public final class InputScale {
    private InputScale() {
    }

    public static float estimate(float[] rows, int dim) {
        return estimate(MemorySegment.ofArray(rows), rows.length / dim, dim);
    }

    /** {@code rows}·{@code dim} float32 values, row-major. Throws when the mean norm is 0 or not finite. */
    public static float estimate(MemorySegment data, long rows, int dim) {
        if (rows < 1) {
            throw new IllegalArgumentException("input scale needs at least one row");
        }
        double sumNorm = 0;
        for (long r = 0; r < rows; r++) {
            double ss = 0;
            for (int j = 0; j < dim; j++) {
                double v = data.getAtIndex(ValueLayout.JAVA_FLOAT, r * dim + j);
                ss += v * v;
            }
            sumNorm += Math.sqrt(ss);
        }
        double mean = sumNorm / rows;
        if (!(mean > 0) || !Double.isFinite(mean)) {
            throw new IllegalArgumentException("input scale: mean activation norm is " + mean);
        }
        return (float) (Math.sqrt(dim) / mean);
    }
}
