package dev.atmsae.browse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The one-pass accumulators against plain recomputation on random input. */
class AccumulatorsTest {
    @Test
    void doublingHistogramEqualsAFixedHistogramOverItsFinalRange() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 20; trial++) {
            DoublingHistogram h = new DoublingHistogram(1);
            double[] v = new double[1 + rnd.nextInt(2000)];
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.exp(rnd.nextGaussian() * 2); // spans several powers of two, any order
                h.add(0, v[i]);
            }
            double max = Arrays.stream(v).max().orElseThrow();
            double range = h.range(0);
            assertTrue(range > max && range <= 2 * max * (1 + 1e-12), "range " + range + " for max " + max);
            int[] expected = new int[DoublingHistogram.BINS];
            for (double x : v) {
                expected[Math.min(DoublingHistogram.BINS - 1, (int) (x / range * DoublingHistogram.BINS))]++;
            }
            int last = DoublingHistogram.BINS - 1;
            while (expected[last] == 0) {
                last--;
            }
            assertArrayEquals(Arrays.copyOf(expected, last + 1), h.counts(0), "trial " + trial);
        }
    }

    @Test
    void topRowsKeepsTheLargestValuesWithTheirPayloads() {
        Random rnd = new Random(11);
        int latents = 3, cap = 7, n = 500;
        TopRows top = new TopRows(latents, cap);
        float[][] values = new float[latents][n];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < latents; j++) {
                float v = (float) rnd.nextInt(100); // many ties: the earlier row wins
                values[j][r] = v;
                top.offer(j, v, r, row -> "row" + row);
            }
        }
        for (int j = 0; j < latents; j++) {
            final int lat = j;
            Integer[] order = new Integer[n];
            for (int r = 0; r < n; r++) {
                order[r] = r;
            }
            Arrays.sort(order, (a, b) -> values[lat][a] != values[lat][b] ? Float.compare(values[lat][b], values[lat][a])
                    : Integer.compare(a, b));
            int[] slots = top.sorted(j);
            assertEquals(cap, slots.length);
            for (int t = 0; t < cap; t++) {
                assertEquals(order[t], top.row(slots[t]), "latent " + j + " rank " + t);
                assertEquals(values[j][order[t]], top.value(slots[t]));
                assertEquals("row" + order[t], top.payload(slots[t]));
            }
        }
    }

    @Test
    void contextWindowStaysInItsSentenceAndSequence() {
        TokenTable t = new TokenTable();
        // sequence 0: sentence 0 of doc a (3 tokens), sentence 1 of doc a (4 tokens); sequence 1: sentence 2 (2 tokens)
        String[][] rows = {{"a", "0", "0"}, {"a", "0", "0"}, {"a", "0", "0"}, {"a", "1", "0"}, {"a", "1", "0"},
                {"a", "1", "0"}, {"a", "1", "0"}, {"a", "2", "1"}, {"a", "2", "1"}};
        for (String[] r : rows) {
            t.add("w", r[0], Integer.parseInt(r[1]), Integer.parseInt(r[2]), null);
        }
        assertArrayEquals(new int[] {0, 3}, t.window(1, 10));
        assertArrayEquals(new int[] {3, 7}, t.window(5, 10));
        assertArrayEquals(new int[] {4, 7}, t.window(5, 1));
        assertArrayEquals(new int[] {7, 9}, t.window(7, 10));
        assertEquals(7, t.sequenceEnd(0));
        assertEquals(9, t.sequenceEnd(8));
    }
}
