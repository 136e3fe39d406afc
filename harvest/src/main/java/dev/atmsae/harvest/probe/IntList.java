package dev.atmsae.harvest.probe;

import java.util.Arrays;

/** A growable int array (per-row labels of a probe set under construction). */
final class IntList {
    private int[] values = new int[1024];
    private int size;

    void add(int v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
