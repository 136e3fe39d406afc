package dev.atmsae.harvest.probe;

import java.util.Arrays;

/** A growable row-major float matrix of fixed width, for collecting probe-set activations row by row. */
final class FloatRows {
    private final int width;
    private float[] values;
    private int rows;

    FloatRows(int width, int initialRows) {
        this.width = width;
        this.values = new float[Math.max(1, initialRows) * width];
    }

    void add(float[] source, int offset) {
        if ((rows + 1) * width > values.length) {
            values = Arrays.copyOf(values, Math.multiplyExact(values.length, 2));
        }
        System.arraycopy(source, offset, values, rows * width, width);
        rows++;
    }

    int rows() {
        return rows;
    }

    /** The rows as an exactly sized array. */
    float[] toArray() {
        return Arrays.copyOf(values, rows * width);
    }
}
