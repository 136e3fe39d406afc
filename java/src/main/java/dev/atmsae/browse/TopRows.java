package dev.atmsae.browse;

import java.util.function.IntFunction;

/**
 * For every latent, the {@code capacity} rows where it fired most strongly, each with an optional payload (the
 * latent's activations over the row's context window), kept as one bounded min-heap per latent in flat arrays.
 * Each latent's heap must be touched by one thread at a time.
 */
final class TopRows {
    private final int capacity;
    private final float[] value;
    private final int[] row;
    private final Object[] payload;
    private final int[] size;

    TopRows(int latents, int capacity) {
        this.capacity = capacity;
        this.value = new float[latents * capacity];
        this.row = new int[latents * capacity];
        this.payload = new Object[latents * capacity];
        this.size = new int[latents];
    }

    /** Would {@code v} enter latent {@code j}'s heap? */
    boolean accepts(int j, float v) {
        return size[j] < capacity || v > value[j * capacity];
    }

    /** Offers (v, r); {@code payloadOf} is called only when the row enters the heap. */
    void offer(int j, float v, int r, IntFunction<Object> payloadOf) {
        if (!accepts(j, v)) {
            return;
        }
        int base = j * capacity;
        if (size[j] < capacity) {
            int i = size[j]++;
            set(base + i, v, r, payloadOf.apply(r));
            siftUp(base, i);
        } else {
            set(base, v, r, payloadOf.apply(r));
            siftDown(base, 0, capacity);
        }
    }

    /** Latent {@code j}'s entries as indices into the flat arrays, strongest first. */
    int[] sorted(int j) {
        int base = j * capacity;
        Integer[] order = new Integer[size[j]];
        for (int i = 0; i < order.length; i++) {
            order[i] = base + i;
        }
        java.util.Arrays.sort(order, (a, b) -> value[a] != value[b] ? Float.compare(value[b], value[a])
                : Integer.compare(row[a], row[b]));
        return java.util.Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    float value(int slot) {
        return value[slot];
    }

    int row(int slot) {
        return row[slot];
    }

    Object payload(int slot) {
        return payload[slot];
    }

    private void set(int at, float v, int r, Object p) {
        value[at] = v;
        row[at] = r;
        payload[at] = p;
    }

    private void siftUp(int base, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!less(base + i, base + parent)) {
                return;
            }
            swap(base + i, base + parent);
            i = parent;
        }
    }

    private void siftDown(int base, int i, int n) {
        while (true) {
            int l = 2 * i + 1, smallest = i;
            if (l < n && less(base + l, base + smallest)) {
                smallest = l;
            }
            if (l + 1 < n && less(base + l + 1, base + smallest)) {
                smallest = l + 1;
            }
            if (smallest == i) {
                return;
            }
            swap(base + i, base + smallest);
            i = smallest;
        }
    }

    /** Heap order: smaller value first; among equal values the later row is evicted first. */
    private boolean less(int a, int b) {
        return value[a] != value[b] ? value[a] < value[b] : row[a] > row[b];
    }

    private void swap(int a, int b) {
        float v = value[a];
        value[a] = value[b];
        value[b] = v;
        int r = row[a];
        row[a] = row[b];
        row[b] = r;
        Object p = payload[a];
        payload[a] = payload[b];
        payload[b] = p;
    }
}
