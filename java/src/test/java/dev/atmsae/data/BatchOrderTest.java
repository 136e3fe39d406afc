package dev.atmsae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchOrderTest {
    @Test
    void randomAccessEqualsSequentialAccess() {
        // 23 chunks of 4 rows (+3 unused), windows of 5 chunks: the last window of each epoch holds 3 chunks
        BatchOrder seq = new BatchOrder(95, 4, 5, true, 11);
        assertEquals(23, seq.batchesPerEpoch());
        assertEquals(3, seq.unusedRowsPerEpoch());
        long[][] ref = new long[69][4];
        for (int g = 0; g < 69; g++) {
            seq.rows(g, ref[g]);
        }
        SplittableRandom r = new SplittableRandom(3);
        long[] got = new long[4];
        for (int i = 0; i < 200; i++) {
            int g = r.nextInt(69);
            BatchOrder fresh = r.nextBoolean() ? new BatchOrder(95, 4, 5, true, 11) : seq;
            fresh.rows(g, got);
            assertArrayEquals(ref[g], got, "batch " + g);
        }
    }

    @Test
    void lastWindowOfAnEpochIsShorterAndStillAPermutation() {
        BatchOrder o = new BatchOrder(95, 4, 5, true, 11);
        long[] rows = new long[4];
        long[] seen = new long[92];
        int n = 0;
        for (int g = 20; g < 23; g++) {
            o.rows(g, rows);
            for (long x : rows) {
                seen[n++] = x;
            }
        }
        assertEquals(12, o.windowLength());
        long[] used = Arrays.copyOf(seen, n);
        Arrays.sort(used);
        for (int i = 1; i < used.length; i++) {
            assertEquals(true, used[i] != used[i - 1], "no row twice in a window");
        }
        for (long x : used) {
            assertEquals(true, x >= 0 && x < 92, "tail rows 92..94 unused");
        }
    }

    @Test
    void sequentialIsPlainOrder() {
        BatchOrder o = new BatchOrder(10, 3, 64, false, 5);
        long[] rows = new long[3];
        o.rows(4, rows); // epoch 1, batch 1
        assertArrayEquals(new long[] {3, 4, 5}, rows);
    }

    @Test
    void tooFewRowsIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new BatchOrder(3, 4, 1, true, 0));
    }
}
